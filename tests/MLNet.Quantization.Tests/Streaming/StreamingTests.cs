using MLNet.Quantization.Cli;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace MLNet.Quantization.Tests.Streaming;

/// <summary>Quantizing a file streams: new tensors go to a scratch file as they are made and come back only when the output is written.</summary>
public class StreamingTests
{
    private const int Width = 512;

    /// <summary>ids → Gather(table [300, 512]) → MatMul(512×512) → Relu → MatMul(512×512) → y, weights in external data.</summary>
    private static string WriteDecoderLike(TempFolder folder)
    {
        var b = new GraphBuilder("decoder_like");
        var ids = b.Input("ids", DataType.Int64, 1L, 6L);
        var table = b.Initializer("embed", new long[] { 300, Width }, Metrics.RandomFloats(300 * Width, 31, 0.5f));
        var x = b.Node("Gather", new[] { table, ids });
        var h = b.Node("Relu", new[] { b.Node("MatMul", new[] { x, b.Initializer("w1", new long[] { Width, Width }, Metrics.RandomFloats(Width * Width, 32, 0.05f)) }) });
        b.Node("MatMul", new[] { h, b.Initializer("w2", new long[] { Width, Width }, Metrics.RandomFloats(Width * Width, 33, 0.05f)) }, "y");
        b.Output("y", DataType.Float, 1L, 6L, (long)Width);
        var path = folder.File("decoder.onnx");
        OnnxModelFile.Save(b.Build(), path, ExternalDataMode.Always);
        return path;
    }

    private static readonly Dictionary<string, (Array, int[])> Ids = new() { ["ids"] = (new long[] { 3, 299, 0, 17, 150, 42 }, new[] { 1, 6 }) };

    public static TheoryData<string> Modes => new() { "weight-only", "gptq", "dynamic", "float16" };

    /// <summary>Token id samples for GPTQ: each layer's session reads spilled codes of the layers before it.</summary>
    private static CalibrationData IdSamples() => CalibrationData.FromInputs(Enumerable.Range(0, 8).Select(i =>
        (IReadOnlyList<Microsoft.ML.OnnxRuntime.NamedOnnxValue>)new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("ids", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(Enumerable.Range(0, 6).Select(t => (long)((i * 37 + t * 53) % 300)).ToArray(), new[] { 1, 6 })) }));

    [Theory]
    [MemberData(nameof(Modes))]
    public void Quantizing_a_file_writes_the_same_model_as_quantizing_in_memory_and_leaves_no_scratch_file(string mode)
    {
        using var folder = new TempFolder();
        var input = WriteDecoderLike(folder);
        var options = new QuantizationOptions
        {
            Mode = mode switch { "weight-only" or "gptq" => QuantizationMode.WeightOnly, "float16" => QuantizationMode.Float16, _ => QuantizationMode.Dynamic },
            WeightOnly = new WeightOnlyOptions { Algorithm = mode == "gptq" ? WeightOnlyAlgorithm.Gptq : WeightOnlyAlgorithm.Rtn },
        };
        var calibration = mode == "gptq" ? IdSamples() : null;
        var inMemory = OnnxQuantizer.Quantize(input, options, calibration).Model;
        var output = folder.File("out.onnx");
        long spilled = 0;
        var progress = new SynchronousProgress(p =>
        {
            if (p.Stage == "Writing tensors" && p.Completed == 1)
                spilled = Directory.GetFiles(folder.Path, "tensors.bin", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        });
        OnnxQuantizer.QuantizeFile(input, output, options, ExternalDataMode.Always, progress, calibration);
        Assert.True(spilled > 100_000, $"only {spilled} bytes were spilled while quantizing");

        var written = OnnxModelFile.Load(output);
        var expected = inMemory.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.Equal(expected.Keys.Order(), written.Graph.Initializer.Select(t => t.Name).Order());
        foreach (var tensor in written.Graph.Initializer)
            Assert.True(inMemory.ReadTensorBytes(expected[tensor.Name]).Span.SequenceEqual(written.ReadTensorBytes(tensor).Span), $"tensor {tensor.Name} differs");
        Assert.Contains(written.Graph.Initializer, t => ExternalDataReference.IsExternal(t));
        Assert.DoesNotContain(written.Graph.Initializer.SelectMany(t => t.ExternalData), e => e.Key == "location" && e.Value != "out.onnx.data");
        Assert.Equal(OrtRunner.Run(inMemory, Ids)["y"], OrtRunner.Run(written, Ids)["y"]);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path, ".*"));
    }

    [Fact]
    public void Spilled_tensors_read_back_from_disk_and_the_scratch_folder_goes_on_dispose()
    {
        using var folder = new TempFolder();
        var values = Metrics.RandomFloats(40_000, 5);
        var large = TensorData.FromFloats("large", new long[] { 200, 200 }, values);
        var small = TensorData.FromFloats("small", new long[] { 4 }, values.AsSpan(0, 4));
        TensorProto spilledLarge, keptSmall;
        string scratch;
        using (var spill = TensorSpill.CreateFor(folder.File("out.onnx")))
        {
            spilledLarge = spill.Store(large);
            keptSmall = spill.Store(small);
            Assert.True(ExternalDataReference.IsExternal(spilledLarge));
            Assert.Equal(spill.Location, ExternalDataReference.Parse(spilledLarge).Location);
            Assert.Same(small, keptSmall);
            Assert.Equal(values, TensorData.ReadFloats(spilledLarge));
            Assert.Equal(new long[] { 200, 200 }, spilledLarge.Dims);
            scratch = Assert.Single(Directory.GetDirectories(folder.Path));
            Assert.True(spill.Length >= 160_000);
        }
        Assert.False(Directory.Exists(scratch));
        Assert.Throws<OnnxFormatException>(() => TensorData.ReadFloats(spilledLarge));
    }

    [Fact]
    public void Cancelling_while_the_output_is_written_leaves_nothing_behind()
    {
        using var folder = new TempFolder();
        var input = WriteDecoderLike(folder);
        var before = Directory.GetFileSystemEntries(folder.Path).Order().ToArray();
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(p => { if (p.Stage == "Writing tensors") cancellation.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => OnnxQuantizer.QuantizeFile(input, folder.File("out.onnx"),
            new QuantizationOptions { Mode = QuantizationMode.WeightOnly }, ExternalDataMode.Always, progress, cancellationToken: cancellation.Token));
        Assert.Equal(before, Directory.GetFileSystemEntries(folder.Path).Order().ToArray());
    }

    [Fact]
    public void External_data_is_appended_at_aligned_offsets()
    {
        using var stream = new MemoryStream();
        var writer = new ExternalDataWriter(stream, "w.bin");
        var first = writer.Append(new TensorProto { Name = "a", DataType = (int)DataType.Uint8, Dims = { 10 } }, new byte[10]);
        var second = writer.Append(new TensorProto { Name = "b", DataType = (int)DataType.Uint8, Dims = { 3 } }, new byte[] { 1, 2, 3 });
        Assert.Equal(0, ExternalDataReference.Parse(first).Offset);
        var reference = ExternalDataReference.Parse(second);
        Assert.Equal(OnnxModelFile.ExternalDataAlignment, reference.Offset);
        Assert.Equal(3, reference.Length);
        Assert.Equal(OnnxModelFile.ExternalDataAlignment + 3, stream.Length);
        Assert.Equal(new byte[] { 1, 2, 3 }, stream.ToArray()[^3..]);
    }

    [Fact]
    public void Redirected_progress_prints_each_long_stage_with_the_time_left()
    {
        var text = new StringWriter();
        var progress = new StageProgress(text);
        for (int i = 1; i <= 20; i++)
        {
            progress.Report(new QuantizationProgress("Quantizing weights", i, 20));
            Thread.Sleep(2);
        }
        progress.Report(new QuantizationProgress("Writing tensors", 1, 4));
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Count(l => l.StartsWith("Quantizing weights: ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("Quantizing weights: 2/20, about ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" left", StringComparison.Ordinal));
        Assert.Contains("Quantizing weights: 20/20", lines.Select(l => l.TrimEnd()));
        Assert.StartsWith("Writing tensors: 1/4", lines[^1]);
    }

    private sealed class SynchronousProgress(Action<QuantizationProgress> report) : IProgress<QuantizationProgress>
    {
        public void Report(QuantizationProgress value) => report(value);
    }
}
