using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace FileXfer.Server.Metrics;

/// <summary>
/// Listens to one <see cref="Meter"/> (a <see cref="MeterListener"/>, as dotnet-counters does) and writes what it
/// measured in Prometheus's text format (version 0.0.4): counters as <c>NAME_total</c>, up-down counters and
/// observable gauges as gauges, histograms as cumulative buckets with <c>_sum</c> and <c>_count</c>. Names are the
/// instrument's with dots as underscores and the unit as a suffix (<c>_seconds</c>, <c>_bytes</c>).
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();
    private readonly Lock _collecting = new();

    public PrometheusExporter(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The text of a scrape: every series measured so far, the observable gauges read now.</summary>
    public string Render()
    {
        var text = new StringBuilder(4096);
        lock (_collecting)
        {
            // Observable gauges report only when asked; their last value is what a scrape shows.
            _listener.RecordObservableInstruments();
            foreach (var group in _series.OrderBy(s => s.Key.Instrument.Name, StringComparer.Ordinal).ThenBy(s => s.Key.Labels, StringComparer.Ordinal).GroupBy(s => s.Key.Instrument))
            {
                var instrument = group.Key;
                var name = PrometheusName(instrument);
                var type = Kind(instrument);
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
                foreach (var (key, series) in group)
                {
                    series.Write(text, name, key.Labels, type);
                }
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        var series = _series.GetOrAdd((instrument, labels), static (key, buckets) => new Series(buckets), Kind(instrument) == "histogram" ? Buckets(instrument) : null);
        series.Add(value, gauge: instrument is ObservableGauge<long> or ObservableGauge<double>);
    }

    private static string Kind(Instrument instrument) => instrument switch
    {
        Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => "counter",
        Histogram<long> or Histogram<double> => "histogram",
        _ => "gauge",
    };

    private static double[] Buckets(Instrument instrument) => instrument.Unit == "s" ? SecondsBuckets : CountBuckets;

    /// <summary><c>filexfer.server.transfer.duration</c> in seconds: <c>filexfer_server_transfer_duration_seconds</c>.</summary>
    public static string PrometheusName(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = instrument.Name.Replace('.', '_');
        name += instrument.Unit switch
        {
            "s" when !name.EndsWith("_seconds", StringComparison.Ordinal) => "_seconds",
            "By" when !name.Contains("bytes", StringComparison.Ordinal) => "_bytes",
            _ => string.Empty,
        };
        return Kind(instrument) == "counter" ? name + "_total" : name;
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
            pairs.Add($"{key}=\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    /// <summary>One series: a sum (counters, up-down counters), the last value (gauges) or a histogram's buckets.</summary>
    private sealed class Series(double[]? bounds)
    {
        private readonly Lock _lock = new();
        private readonly long[]? _buckets = bounds is null ? null : new long[bounds.Length];
        private double _sum;
        private long _count;

        public void Add(double value, bool gauge)
        {
            lock (_lock)
            {
                _count++;
                _sum = gauge ? value : _sum + value;
                if (_buckets is not null)
                {
                    for (int i = 0; i < bounds!.Length; i++)
                    {
                        if (value <= bounds[i])
                        {
                            _buckets[i]++;
                        }
                    }
                }
            }
        }

        public void Write(StringBuilder text, string name, string labels, string type)
        {
            lock (_lock)
            {
                if (type != "histogram")
                {
                    Line(text, name, labels, _sum);
                    return;
                }

                for (int i = 0; i < bounds!.Length; i++)
                {
                    Line(text, name + "_bucket", Join(labels, $"le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\""), _buckets![i]);
                }

                Line(text, name + "_bucket", Join(labels, "le=\"+Inf\""), _count);
                Line(text, name + "_sum", labels, _sum);
                Line(text, name + "_count", labels, _count);
            }
        }

        private static string Join(string labels, string more) => labels.Length == 0 ? more : labels + "," + more;

        private static void Line(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
