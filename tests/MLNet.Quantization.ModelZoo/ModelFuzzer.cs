using System.Security.Cryptography;
using CsCheck;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.ModelZoo;

/// <summary>
/// Property: for any mutation of a valid model (bytes flipped, truncated, nodes dropped or rewired, attributes and
/// types changed), quantizing either fails with one clear error and writes nothing, or writes a model ONNX Runtime
/// loads; the input file never changes and no temporary file stays behind. The tests run 300 cases; the
/// benchmark task runs 10,000.
/// </summary>
public static class ModelFuzzer
{
    /// <summary>Runs <paramref name="cases"/> mutations of <paramref name="bases"/> through <see cref="OnnxQuantizer.QuantizeFile"/>; throws on the first violation; returns a one-line summary.</summary>
    /// <param name="bases">Valid models to mutate, serialized.</param>
    /// <param name="cases">How many mutated models to try.</param>
    /// <param name="seed">CsCheck seed; 0 for a random one (printed by CsCheck on failure).</param>
    public static string Check(IReadOnlyList<byte[]> bases, int cases, long seed = 0)
    {
        int failed = 0, written = 0;
        var mutation = Gen.Select(Gen.Int[0, bases.Count - 1], Gen.Int[0, 5], Gen.Int[0, int.MaxValue], Gen.Int[1, 8]);
        var folder = Path.Combine(Path.GetTempPath(), "mlnetq-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
        mutation.Sample(m =>
        {
            var (which, kind, position, count) = m;
            var bytes = Mutate(bases[which], kind, position, count);
            var input = Path.Combine(folder, "in.onnx");
            var output = Path.Combine(folder, "out.onnx");
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
            var left = Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n!.EndsWith(".tmp", StringComparison.Ordinal)).ToList();
            if (left.Count > 0) throw new InvalidOperationException($"mutation {m} left {string.Join(", ", left)}");
            File.Delete(output);
        }, iter: cases, seed: seed == 0 ? null : seed.ToString(), threads: 1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
                else node.Attribute.Add(OnnxAttribute.Int("axis", random.Next(-3, 4)).Proto);
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
}
