namespace MLNet.Quantization.Cli;

/// <summary>A PNG bar chart of SQNR per tensor in graph order, so the layer where the error jumps stands out.</summary>
internal static class DebugChart
{
    public static void Save(DebugReport report, string path, string title)
    {
        var plot = new ScottPlot.Plot();
        var values = report.Tensors.Select(t => double.IsPositiveInfinity(t.SqnrDb) ? 100 : Math.Min(t.SqnrDb, 100)).ToArray();
        var bars = plot.Add.Bars(values);
        bars.Color = ScottPlot.Colors.SteelBlue;
        plot.Title($"{title}: SQNR per tensor, in graph order");
        plot.YLabel("SQNR (dB, higher is better; capped at 100)");
        plot.Axes.Bottom.MinimumSize = 170;
        int step = Math.Max(1, report.Tensors.Count / 25);
        var ticks = report.Tensors.Select((t, i) => (t, i)).Where(p => p.i % step == 0).Select(p => new ScottPlot.Tick(p.i, Shorten(p.t.FloatTensor))).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, Math.Clamp(report.Tensors.Count * 18 + 200, 800, 2400), 720);
    }

    private static string Shorten(string name) => name.Length <= 24 ? name : name[..11] + "…" + name[^12..];
}
