using System.Collections.Concurrent;
using MLNet.Quantization.Onnx.Protos;

namespace MLNet.Quantization.Onnx;

/// <summary>
/// A scratch file that holds the tensors a rewrite produces while the model is still being built, so a quantized
/// model over gigabytes never sits in memory: each large new initializer goes to disk as soon as it is made and is read
/// back (one tensor at a time) only when the model is saved. The file lives in a hidden staging folder next to the
/// output (<see cref="AtomicFile"/>), is deleted on dispose, and a killed run's leftover is removed by the next run.
/// </summary>
/// <remarks>
/// Spilled tensors are marked external with a location unique to this spill; <see cref="TensorData"/> resolves
/// that location here whichever <see cref="OnnxModel"/> wrapper reads the tensor. Saved models never name it:
/// saving rewrites every tensor into the output's own data file or inline.
/// </remarks>
internal sealed class TensorSpill : IDisposable
{
    /// <summary>New initializers at least this large are spilled; smaller ones stay in memory.</summary>
    public const int ThresholdBytes = 64 * 1024;

    private static readonly ConcurrentDictionary<string, TensorSpill> Open = new(StringComparer.Ordinal);

    private readonly string _folder;
    private readonly FileStream _stream;
    private readonly ExternalDataWriter _writer;
    private readonly object _gate = new();
    private bool _disposed;

    private TensorSpill(string folder)
    {
        _folder = folder;
        Location = $"mlnet-quantization-spill-{Guid.NewGuid():N}";
        _stream = new FileStream(Path.Combine(folder, "tensors.bin"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.RandomAccess);
        _writer = new ExternalDataWriter(_stream, Location);
        Open[Location] = this;
    }

    /// <summary>The external-data location spilled tensors carry.</summary>
    public string Location { get; }

    /// <summary>Bytes spilled so far.</summary>
    public long Length => _writer.Length;

    /// <summary>Creates a spill in a staging folder next to <paramref name="outputPath"/>.</summary>
    public static TensorSpill CreateFor(string outputPath) => new(AtomicFile.CreateStagingFolder(outputPath));

    /// <summary>Whether <paramref name="folder"/> is the scratch folder of a spill this process still has open (not a leftover).</summary>
    public static bool IsOpenFolder(string folder) =>
        Open.Values.Any(spill => string.Equals(Path.GetFullPath(spill._folder), Path.GetFullPath(folder), StringComparison.Ordinal));

    /// <summary>The open spill a tensor's location names, or null when it names a real file.</summary>
    public static TensorSpill? Find(string location) => Open.TryGetValue(location, out var spill) ? spill : null;

    /// <summary>Writes a large in-memory tensor to the spill and returns the entry that replaces it; small or external tensors come back as they are.</summary>
    public TensorProto Store(TensorProto tensor)
    {
        if (ExternalDataReference.IsExternal(tensor) || tensor.RawData.Length < ThresholdBytes) return tensor;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Seek(0, SeekOrigin.End);
            var reference = _writer.Append(tensor, tensor.RawData.Span);
            GarbageBound.Check();
            return reference;
        }
    }

    /// <summary>Reads back the bytes a spilled tensor's entry points at.</summary>
    public byte[] Read(ExternalDataReference reference, string tensorName)
    {
        if (reference.Length is not { } length || reference.Offset + length > _writer.Length)
            throw new InvalidOperationException($"Internal error: tensor '{tensorName}' points past the end of the spill file.");
        var buffer = new byte[length];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Flush();
            _stream.Position = reference.Offset;
            _stream.ReadExactly(buffer);
        }
        return buffer;
    }

    /// <summary>Closes and deletes the spill file and its folder.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Open.TryRemove(Location, out _);
            _stream.Dispose();
            AtomicFile.DeleteFolder(_folder);
        }
    }
}
