using System.Runtime.Versioning;

// One Ceph cluster for the whole run: it takes about 13 s to start.
[assembly: AssemblyFixture(typeof(FileXfer.S3.Tests.CephCluster))]

// Ceph and the server's store run on Linux.
[assembly: UnsupportedOSPlatform("windows")]
