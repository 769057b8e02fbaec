using System.Runtime.InteropServices;
using MLNet.Quantization.Cli;

// The first SIGINT/SIGTERM cancels the run cleanly; a second one terminates the process at once.
using var cancellation = new CancellationTokenSource();
int exitOnCancel = CliApp.Interrupted;
void Cancel(PosixSignalContext context, int exitCode)
{
    if (cancellation.IsCancellationRequested) return;
    context.Cancel = true;
    exitOnCancel = exitCode;
    cancellation.Cancel();
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Cancel(c, CliApp.Interrupted));
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Cancel(c, CliApp.Terminated));
int code = CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);
return code == CliApp.Interrupted ? exitOnCancel : code;
