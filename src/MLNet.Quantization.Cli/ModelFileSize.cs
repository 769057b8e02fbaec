namespace MLNet.Quantization.Cli;

/// <summary>How big a model is on disk: the .onnx file together with its <c>.data</c> file when there is one.</summary>
internal static class ModelFileSize
{
    /// <summary>The size in KiB, MiB or GiB, naming the data file when there is one.</summary>
    public static string Describe(FileInfo model)
    {
        model.Refresh();
        var data = new FileInfo(model.FullName + ".data");
        long bytes = model.Length + (data.Exists ? data.Length : 0);
        var size = bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F2} GiB" : bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F1} MiB" : $"{bytes / 1024.0:F1} KiB";
        return data.Exists ? $"{size} with {data.Name}" : size;
    }
}
