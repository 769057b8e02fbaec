using Spectre.Console;

namespace MLNet.Quantization.Cli;

/// <summary>
/// Progress bars (Spectre.Console) on an interactive stderr: calibration, quantizing, writing, latency measurement and tuning trials, with
/// the time left; each finished tuning trial is printed above the bars. Redirected stderr gets plain lines instead
/// (<see cref="StageProgress"/>), which read well in logs.
/// </summary>
internal sealed class LiveProgress : IProgress<QuantizationProgress>
{
    private readonly ProgressContext _context;
    private readonly IAnsiConsole _console;
    private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);

    /// <summary>The stages that get a bar (and a time left): calibration and the per-node or per-tensor passes.</summary>
    public static readonly IReadOnlySet<string> LongStages = new HashSet<string>(StringComparer.Ordinal)
    {
        "Calibrating", "Quantizing nodes", "Quantizing weights", "Converting", "Writing tensors",
    };

    private LiveProgress(ProgressContext context, IAnsiConsole console) => (_context, _console) = (context, console);

    /// <summary>Runs <paramref name="work"/> with a progress reporter suited to where <paramref name="error"/> goes.</summary>
    public static T Run<T>(TextWriter error, Func<IProgress<QuantizationProgress>, T> work)
    {
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected) return work(new StageProgress(error));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var live = new LiveProgress(context, console);
                var result = work(live);
                foreach (var (stage, task) in live._tasks)
                {
                    if (stage != "Tuning") task.Value = task.MaxValue;
                    task.StopTask();
                }
                return result;
            });
    }

    /// <inheritdoc />
    public void Report(QuantizationProgress value)
    {
        if (value.Stage == "Calibrated")
        {
            if (_tasks.TryGetValue("Calibrating", out var calibrating)) calibrating.Value = calibrating.MaxValue;
            return;
        }
        string key = value.Stage.StartsWith("Tuning", StringComparison.Ordinal) ? "Tuning" : value.Stage;
        if (key == "Tuning") _console.MarkupLine(Markup.Escape(value.Stage));
        if (key is not ("Measured latency" or "Tuning") && !LongStages.Contains(key)) return;
        if (!_tasks.TryGetValue(key, out var task))
        {
            task = _context.AddTask(Markup.Escape(key == "Measured latency" ? "Measuring latency" : key));
            _tasks[key] = task;
        }
        task.MaxValue = Math.Max(1, value.Total);
        task.Value = Math.Min(value.Completed, task.MaxValue);
    }
}
