using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Calibration;
using MLNet.Quantization.Cli;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Planning;

namespace MLNet.Quantization.Tests;

/// <summary>
/// Calibration on a GPU (<see cref="QuantizationOptions.GpuDeviceId"/>). These tests reference the CPU build of ONNX
/// Runtime, so the CUDA provider cannot start: they check that a run asking for it stops before any work with the
/// one error naming what is missing, and that <see cref="QuantizationOptions.FallbackToCpu"/> calibrates on the CPU
/// with the very result of a CPU run and says so.
/// </summary>
public class CalibrationDeviceTests
{
    private sealed class Row
    {
        [VectorType(64)]
        [ColumnName("x")]
        public float[] X { get; set; } = Array.Empty<float>();
    }

    private static IReadOnlyList<NamedOnnxValue> Sample(int seed) =>
        new[] { NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(Metrics.RandomFloats(4 * 64, seed), new[] { 4, 64 })) };

    private static CalibrationData Samples(int count) => CalibrationData.FromInputs(Enumerable.Range(0, count).Select(i => Sample(100 + i)));

    private static QuantizationOptions Static => new() { Mode = QuantizationMode.Static, MinimumWeightElements = 0, LatencyGuard = false };

    private static QuantizationOptions Gptq => new()
    {
        Mode = QuantizationMode.WeightOnly,
        MinimumWeightElements = 0,
        WeightOnly = new WeightOnlyOptions { Bits = 4, BlockSize = 32, Algorithm = WeightOnlyAlgorithm.Gptq },
    };

    private static void AssertNamesWhatIsMissing(string message)
    {
        Assert.Contains("CUDA device 0", message);
        Assert.Contains("GpuDeviceId", message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu 1.31.0", message);
        Assert.Contains("libcudart.so.13", message);
        Assert.Contains("cuDNN 9", message);
        Assert.Contains($"This application has no {ProviderLibrary}: it ships the CPU build of ONNX Runtime.", message);
        Assert.Contains("ONNX Runtime said:", message);
    }

    private static string ProviderLibrary => OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";

    public static TheoryData<string> CalibratingModes => new() { "static", "gptq" };

    private static QuantizationOptions For(string mode) => mode == "static" ? Static : Gptq;

    [Theory]
    [MemberData(nameof(CalibratingModes))]
    public void A_gpu_that_cannot_start_stops_the_run_with_what_is_missing_and_writes_nothing(string mode)
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("float.onnx"));
        var before = File.ReadAllBytes(folder.File("float.onnx"));
        var progress = new List<QuantizationProgress>();

        foreach (var output in new[] { folder.File("q.onnx"), folder.File("sub/q.onnx") })
        {
            var error = Assert.Throws<InvalidOperationException>(() => OnnxQuantizer.QuantizeFile(folder.File("float.onnx"), output,
                For(mode) with { GpuDeviceId = 0 }, progress: new Progress(progress), calibrationData: Samples(8)));
            AssertNamesWhatIsMissing(error.Message);
        }

        Assert.Empty(progress);
        Assert.Equal(new[] { "float.onnx" }, Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
        Assert.Equal(before, File.ReadAllBytes(folder.File("float.onnx")));
    }

    [Theory]
    [MemberData(nameof(CalibratingModes))]
    public void Fallback_to_cpu_gives_the_cpu_result_and_says_so(string mode)
    {
        var model = TestModels.Mlp();
        var onCpu = OnnxQuantizer.Quantize(model, For(mode), Samples(8));
        var fallback = OnnxQuantizer.Quantize(model, For(mode) with { GpuDeviceId = 0, FallbackToCpu = true }, Samples(8));

        Assert.True(onCpu.Report.QuantizedNodeCount >= 2);
        Assert.Equal(onCpu.Model.Proto.ToByteArray(), fallback.Model.Proto.ToByteArray());
        var note = Assert.Single(fallback.Report.Notes, n => n.StartsWith("calibration ran on the CPU: CUDA device 0 could not start", StringComparison.Ordinal));
        Assert.Contains("ONNX Runtime said:", note);
        Assert.DoesNotContain(onCpu.Report.Notes, n => n.Contains("CUDA", StringComparison.Ordinal));
    }

    [Fact]
    public void The_calibration_sessions_themselves_ask_for_the_gpu()
    {
        var model = TestModels.Mlp();
        var unresolved = Static with { GpuDeviceId = 0 };
        var observed = Assert.Throws<InvalidOperationException>(() => ActivationObserver.Observe(model, new[] { model.Graph.Node[1].Output[0] }, Samples(2), unresolved, null));
        AssertNamesWhatIsMissing(observed.Message);

        var graph = new GraphEditor(new OnnxModel(model.Proto.Clone(), null));
        using var hessians = WeightOnlyPlanner.HessiansFor(graph, Samples(2), Gptq with { GpuDeviceId = 0 }, null, CancellationToken.None);
        var second = graph.Graph.Node.Select((n, i) => (n, i)).Where(p => p.n.OpType == "MatMul").Skip(1).First();
        var segment = Assert.Throws<InvalidOperationException>(() => hessians.For(second.n.Input[0], graph.Graph.Node.ToList(), second.i, 32));
        AssertNamesWhatIsMissing(segment.Message);
    }

    [Fact]
    public void Sensitivity_calibrates_on_the_gpu_or_falls_back()
    {
        var model = TestModels.Mlp();
        var onCpu = QuantizationDebugger.Sensitivity(model, Static, Samples(4), Samples(3));
        var fallback = QuantizationDebugger.Sensitivity(model, Static with { GpuDeviceId = 0, FallbackToCpu = true }, Samples(4), Samples(3));
        Assert.NotEmpty(onCpu);
        Assert.Equal(onCpu, fallback);
        AssertNamesWhatIsMissing(Assert.Throws<InvalidOperationException>(() => QuantizationDebugger.Sensitivity(model, Static with { GpuDeviceId = 0 }, Samples(4), Samples(3))).Message);
    }

    [Fact]
    public void A_run_that_calibrates_nothing_ignores_the_gpu_and_says_so()
    {
        var model = TestModels.Mlp();
        var plain = OnnxQuantizer.Quantize(model, new QuantizationOptions { MinimumWeightElements = 0 });
        var withGpu = OnnxQuantizer.Quantize(model, new QuantizationOptions { MinimumWeightElements = 0, GpuDeviceId = 0 });

        Assert.Equal(plain.Model.Proto.ToByteArray(), withGpu.Model.Proto.ToByteArray());
        Assert.Contains(withGpu.Report.Notes, n => n.StartsWith("GPU device 0 was not used", StringComparison.Ordinal));
    }

    [Fact]
    public void A_negative_device_number_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(TestModels.Mlp(), Static with { GpuDeviceId = -1 }, Samples(2)));
        Assert.Equal(nameof(QuantizationOptions.GpuDeviceId), error.ParamName);
    }

    [Fact]
    public void The_ml_net_estimator_calibrates_on_its_gpu_device_with_its_fallback_and_reads_the_mlcontexts()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("mlp.onnx"));
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 16).Select(i => new Row { X = Metrics.RandomFloats(64, 500 + i) }));
        const string fellBack = "calibration ran on the CPU: CUDA device 0 could not start";

        var viaEstimator = ml.Transforms.Quantize(folder.File("mlp.onnx"), Static, gpuDeviceId: 0, fallbackToCpu: true);
        viaEstimator.Fit(rows);
        Assert.Contains(viaEstimator.Report!.Notes, n => n.StartsWith(fellBack, StringComparison.Ordinal));

        var onCpu = ml.Transforms.Quantize(folder.File("mlp.onnx"), Static);
        onCpu.Fit(rows);
        Assert.DoesNotContain(onCpu.Report!.Notes, n => n.Contains("CUDA", StringComparison.Ordinal));
        Assert.Equal(onCpu.Result!.ToBytes(), viaEstimator.Result!.ToBytes());

        var gpuContext = new MLContext(seed: 1) { GpuDeviceId = 3, FallbackToCpu = true };
        Assert.Equal((3, true), CatalogEnvironment.Device(CatalogEnvironment.Find(gpuContext.Transforms)));
        Assert.Equal((null, false), CatalogEnvironment.Device(CatalogEnvironment.Find(ml.Transforms)));
        var viaContext = Assert.Throws<InvalidOperationException>(() => gpuContext.Transforms.Quantize(folder.File("mlp.onnx"), Static));
        Assert.StartsWith("MLContext.GpuDeviceId asks for CUDA device 3", viaContext.Message);
        Assert.Contains("set MLContext.GpuDeviceId = null", viaContext.Message);

        var strict = ml.Transforms.Quantize(folder.File("mlp.onnx"), Static with { GpuDeviceId = 0 });
        AssertNamesWhatIsMissing(Assert.Throws<InvalidOperationException>(() => strict.Fit(rows)).Message);
        var strictScoring = Assert.Throws<InvalidOperationException>(() => ml.Transforms.Quantize(folder.File("mlp.onnx"), Static, gpuDeviceId: 0));
        Assert.StartsWith("Quantize(..., gpuDeviceId) asks for CUDA device 0", strictScoring.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu 1.31.0", strictScoring.Message);
    }

    [Fact]
    public void The_cli_calibrates_on_the_device_it_is_given_and_rejects_a_device_it_cannot_use()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.Mlp(), folder.File("float.onnx"));
        for (int i = 0; i < 4; i++) TestDataSets.Write(folder.File($"cal/test_data_set_{i}"), Sample(700 + i));

        var cuda = Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("cal"), "--device", "cuda");
        Assert.Equal(1, cuda.Code);
        AssertNamesWhatIsMissing(cuda.Error);
        Assert.Contains("QuantizationOptions.GpuDeviceId (CLI: --device)", cuda.Error);
        Assert.Single(cuda.Error.Trim().Split('\n'));
        Assert.False(File.Exists(folder.File("q.onnx")));

        var second = Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--mode", "weight-only", "--algorithm", "gptq", "--calibration-data", folder.File("cal"), "--device", "cuda:1");
        Assert.Equal(1, second.Code);
        Assert.Contains("CUDA device 1", second.Error);

        Assert.Equal(2, Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("cal"), "--device", "gpu").Code);
        Assert.Equal(2, Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("cal"), "--device", "cuda:-1").Code);
        var dynamic = Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--device", "cuda");
        Assert.Equal(2, dynamic.Code);
        Assert.Contains("--device chooses where calibration runs", dynamic.Error);

        var cpu = Cli("quantize", folder.File("float.onnx"), "-o", folder.File("q.onnx"), "--mode", "static", "--calibration-data", folder.File("cal"), "--device", "cpu", "--min-weight-elements", "0");
        Assert.Equal(0, cpu.Code);
        Assert.DoesNotContain("CUDA", cpu.Output);
        Assert.True(File.Exists(folder.File("q.onnx")));
    }

    private static (int Code, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Records progress synchronously (System.Progress posts to the thread pool).</summary>
    private sealed class Progress : IProgress<QuantizationProgress>
    {
        private readonly List<QuantizationProgress> _reports;

        public Progress(List<QuantizationProgress> reports) => _reports = reports;

        public void Report(QuantizationProgress value) => _reports.Add(value);
    }
}
