using System.Security.Cryptography;
using CsCheck;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.ModelZoo;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Tests;

/// <summary>
/// Property: for any mutation of a valid model (bytes flipped, truncated, nodes dropped or rewired, attributes and
/// types changed), quantizing either fails with one clear error and writes nothing, or writes a model ONNX Runtime
/// loads; the input file never changes and no temporary file stays behind. A few hundred cases here; the
/// benchmark task runs 10,000.
/// </summary>
public class FuzzTests
{
    /// <summary>Runs <paramref name="cases"/> mutated models through <see cref="OnnxQuantizer.QuantizeFile"/>; returns a one-line summary.</summary>
    public static string Check(int cases, long seed = 0)
    {
        var bases = new[] { OnnxModelFile.ToBytes(TestModels.Mlp()), OnnxModelFile.ToBytes(TestModels.Opset9WithConstants()), OnnxModelFile.ToBytes(CnnModelBuilder.Build(new CnnShape(new[] { 4, 8 }, ImageSize: 8))) };
        int failed = 0, written = 0;
        var mutation = Gen.Select(Gen.Int[0, bases.Length - 1], Gen.Int[0, 5], Gen.Int[0, int.MaxValue], Gen.Int[1, 8]);
        using var folder = new TempFolder();
        mutation.Sample(m =>
        {
            var (which, kind, position, count) = m;
            var bytes = Mutate(bases[which], kind, position, count);
            var input = folder.File("in.onnx");
            var output = folder.File("out.onnx");
            File.WriteAllBytes(input, bytes);
            var before = SHA256.HashData(bytes);
            try
            {
                OnnxQuantizer.QuantizeFile(input, output);
                written++;
                using var session = new InferenceSession(output);
            }
            catch (Exception e) when (e is OnnxFormatException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                failed++;
                if (File.Exists(output)) throw new InvalidOperationException($"mutation {m} failed ({e.Message}) but left {output} behind");
                if (e.Message.Contains('\n') && e is not OnnxFormatException) throw new InvalidOperationException($"mutation {m}: the error is not one line: {e.Message}");
            }
            if (!SHA256.HashData(File.ReadAllBytes(input)).AsSpan().SequenceEqual(before)) throw new InvalidOperationException($"mutation {m} modified the input");
            var left = Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName).Where(n => n!.EndsWith(".tmp", StringComparison.Ordinal)).ToList();
            if (left.Count > 0) throw new InvalidOperationException($"mutation {m} left {string.Join(", ", left)}");
            File.Delete(output);
        }, iter: cases, seed: seed == 0 ? null : seed.ToString(), threads: 1);
        return $"{cases} cases: {written} written and loaded, {failed} refused with a clear error";
    }

    private static byte[] Mutate(byte[] source, int kind, int position, int count)
    {
        var bytes = (byte[])source.Clone();
        var random = new Random(position);
        switch (kind)
        {
            case 0:
                for (int i = 0; i < count; i++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1:
                return bytes.AsSpan(0, random.Next(1, bytes.Length)).ToArray();
        }
        var model = ModelProto.Parser.ParseFrom(source);
        var nodes = model.Graph.Node;
        var node = nodes[random.Next(nodes.Count)];
        switch (kind)
        {
            case 2: nodes.Remove(node); break;
            case 3: if (node.Input.Count > 0) node.Input[random.Next(node.Input.Count)] = random.Next(2) == 0 ? "missing" : nodes[random.Next(nodes.Count)].Output[0]; break;
            case 4:
                if (node.Attribute.Count > 0) { var a = node.Attribute[random.Next(node.Attribute.Count)]; a.I = random.Next(-3, 5); a.Ints.Clear(); a.Ints.Add(random.Next(-2, 4)); }
                else node.Attribute.Add(NodeAttributes.Int("axis", random.Next(-3, 4)));
                break;
            default:
                var tensors = model.Graph.Initializer;
                if (tensors.Count > 0)
                {
                    var t = tensors[random.Next(tensors.Count)];
                    if (random.Next(2) == 0) t.DataType = random.Next(1, 17); else { t.Dims.Add(random.Next(1, 4)); }
                }
                break;
        }
        return model.ToByteArray();
    }

    [Fact]
    public void Mutated_models_fail_cleanly_or_give_a_model_onnx_runtime_loads() => Assert.Contains("300 cases", Check(300));
}
