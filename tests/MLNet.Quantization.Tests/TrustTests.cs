using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;

namespace MLNet.Quantization.Tests;

/// <summary>Nothing is done to a model ONNX Runtime rejects; no input file is touched; nothing partial stays behind.</summary>
public class TrustTests
{
    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static string[] Leftovers(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n!.EndsWith(".tmp", StringComparison.Ordinal)).ToArray()!;

    [Fact]
    public void A_model_onnx_runtime_rejects_is_refused_before_anything_is_written()
    {
        using var folder = new TempFolder();
        var model = TestModels.Mlp();
        model.Graph.Node[0].OpType = "MatMulThatDoesNotExist";
        var input = folder.File("broken.onnx");
        File.WriteAllBytes(input, Google.Protobuf.MessageExtensions.ToByteArray(model.Proto));

        var error = Assert.Throws<OnnxFormatException>(() => OnnxQuantizer.QuantizeFile(input, folder.File("out.onnx")));
        Assert.StartsWith("The input model is not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("MatMulThatDoesNotExist", error.Message, StringComparison.Ordinal);

        var stderr = new StringWriter();
        Assert.Equal(CliApp.Failure, CliApp.Run(new[] { "quantize", input, "-o", folder.File("out.onnx") }, new StringWriter(), stderr));
        Assert.Contains("error: The input model is not valid", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(new[] { "broken.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void An_output_that_is_one_of_the_input_files_is_refused_by_path_symlink_or_hard_link()
    {
        using var folder = new TempFolder();
        var input = folder.File("m.onnx");
        OnnxModelFile.Save(TestModels.Mlp(), input, ExternalDataMode.Always);
        var data = input + ".data";
        var hashes = (Hash(input), Hash(data));
        File.CreateSymbolicLink(folder.File("link.onnx"), input);
        Directory.CreateDirectory(folder.File("other"));
        Process.Start("ln", new[] { data, folder.File("other/hard.onnx.data") })!.WaitForExit();
        Process.Start("ln", new[] { data, folder.File("hard2.onnx") })!.WaitForExit();

        foreach (var output in new[] { input, data, folder.File("link.onnx"), folder.File("other/hard.onnx"), folder.File("hard2.onnx") })
        {
            var error = Assert.Throws<ArgumentException>(() => OnnxQuantizer.QuantizeFile(input, output, externalData: ExternalDataMode.Always));
            Assert.Contains("would destroy the float model", error.Message, StringComparison.Ordinal);
            Assert.Equal(CliApp.Failure, CliApp.Run(new[] { "quantize", input, "-o", output, "--external-data" }, new StringWriter(), new StringWriter()));
        }
        Assert.Equal(hashes, (Hash(input), Hash(data)));
        Assert.False(File.Exists(folder.File("other/hard.onnx")));
        Assert.Empty(Leftovers(folder.Path));
    }

    [Fact]
    public void Leftovers_of_a_killed_run_are_removed_and_the_written_model_loads()
    {
        using var folder = new TempFolder();
        var input = folder.File("m.onnx");
        OnnxModelFile.Save(TestModels.Mlp(), input);
        var output = folder.File("q.onnx");
        var killedStaging = folder.File($".q.onnx.{Guid.NewGuid():N}.tmp");
        var killedData = folder.File($".q.onnx.data.{Guid.NewGuid():N}.tmp");
        var liveStaging = folder.File($".q.onnx.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(killedStaging);
        File.WriteAllText(killedData, "partial");
        Directory.SetLastWriteTimeUtc(killedStaging, DateTime.UtcNow.AddMinutes(-10));
        File.SetLastWriteTimeUtc(killedData, DateTime.UtcNow.AddMinutes(-10));
        Directory.CreateDirectory(liveStaging);
        File.WriteAllText(folder.File(".unrelated.tmp"), "keep");

        OnnxQuantizer.QuantizeFile(input, output, externalData: ExternalDataMode.Always);

        Assert.Equal(new[] { Path.GetFileName(liveStaging), ".unrelated.tmp" }.OrderBy(n => n, StringComparer.Ordinal), Leftovers(folder.Path).OrderBy(n => n, StringComparer.Ordinal));
        using var session = new InferenceSession(output);
        Assert.True(File.Exists(output + ".data"));
    }

    [Fact]
    public void A_cancelled_run_throws_and_leaves_nothing_behind()
    {
        using var folder = new TempFolder();
        var input = folder.File("m.onnx");
        OnnxModelFile.Save(CnnModelBuilder.Build(new CnnShape(new[] { 8, 16 }, ImageSize: 16)), input);
        using var cancellation = new CancellationTokenSource();
        var samples = Enumerable.Range(0, 50).Select(i =>
        {
            if (i == 5) cancellation.Cancel();
            return (IReadOnlyList<NamedOnnxValue>)CnnInputs.Create(batch: 1, seed: i, size: 16);
        });
        Assert.ThrowsAny<OperationCanceledException>(() => OnnxQuantizer.QuantizeFile(input, folder.File("q.onnx"),
            new QuantizationOptions { Mode = QuantizationMode.Static }, calibrationData: CalibrationData.FromInputs(samples), cancellationToken: cancellation.Token));
        Assert.Equal(new[] { "m.onnx" }, Directory.EnumerateFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Sigterm_during_calibration_exits_143_and_removes_temp_files()
    {
        using var folder = new TempFolder();
        var input = folder.File("cnn.onnx");
        OnnxModelFile.Save(CnnModelBuilder.Build(new CnnShape(new[] { 32, 64, 64 }, ImageSize: 96)), input);
        for (int i = 0; i < 400; i++) TestDataSets.Write(folder.File($"calibration/test_data_set_{i}"), CnnInputs.Create(batch: 1, seed: i, size: 96));
        var cli = Path.Combine(AppContext.BaseDirectory, "mlnet-quantize.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { cli, "quantize", input, "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("calibration"), "--max-calibration-samples", "400" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var calibrating = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) => { if (e.Data?.StartsWith("Calibrating", StringComparison.Ordinal) == true) calibrating.TrySetResult(); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await calibrating.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Process.Start("kill", new[] { "-TERM", process.Id.ToString() })!.WaitForExit();
        Assert.True(process.WaitForExit(30_000), "the CLI did not stop after SIGTERM");

        Assert.Equal(CliApp.Terminated, process.ExitCode);
        Assert.False(File.Exists(folder.File("q.onnx")));
        Assert.Empty(Leftovers(folder.Path));
    }
}
