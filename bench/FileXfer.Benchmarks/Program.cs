using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(FileXfer.Benchmarks.FrameCodecBenchmarks).Assembly).Run(args);
