using System.CommandLine;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Cli;

/// <summary>The mlnet-quantize command line: quantize, dequantize, inspect, compare, debug. Exit codes: 0 ok, 1 failure, 2 bad usage.</summary>
public static class CliApp
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;

    /// <summary>Exit code for a failure (bad model, I/O error), reported as one line on stderr.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad usage (unknown option, missing argument).</summary>
    public const int BadUsage = 2;

    /// <summary>Exit code after Ctrl+C (SIGINT): the run stopped and removed what it had started to write.</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code after SIGTERM: the run stopped and removed what it had started to write.</summary>
    public const int Terminated = 143;

    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where results go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels a running command, which then returns <see cref="Interrupted"/>.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("mlnet-quantize: quantization of ONNX models for .NET and ML.NET: quantize, dequantize, inspect, compare, debug.")
        {
            QuantizeCommand.Create(output, error, cancellationToken),
            DequantizeCommand.Create(output, error, cancellationToken),
            InspectCommand.Create(output),
            CompareCommand.Create(output),
            DebugCommand.Create(output, cancellationToken),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors) error.WriteLine($"error: {parseError.Message}");
            error.WriteLine("Run 'mlnet-quantize --help' for usage.");
            return BadUsage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Cancelled; nothing was written.");
            return Interrupted;
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return BadUsage;
        }
        catch (Exception e) when (IsUserError(e))
        {
            error.WriteLine($"error: {e.Message}");
            return Failure;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is OnnxFormatException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException
            or UnauthorizedAccessException or ArgumentException or InvalidOperationException or NotSupportedException
            or Microsoft.ML.OnnxRuntime.OnnxRuntimeException;
}
