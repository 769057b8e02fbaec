namespace MLNet.Quantization.Onnx;

/// <summary>
/// Refuses an output path that would overwrite a file the input model reads: the model file itself or one of its
/// external data files, by the same path, a symbolic link or a hard link. Checked before anything is written.
/// </summary>
internal static class OutputPathGuard
{
    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="outputPath"/> or its <c>.data</c> file is one of the input's files.</summary>
    public static void Check(string inputPath, OnnxModel input, string outputPath)
    {
        var inputFiles = InputFiles(inputPath, input).ToList();
        var outputFiles = new[] { outputPath, OnnxModelFile.DataPathFor(outputPath) };
        foreach (var output in outputFiles)
        {
            foreach (var file in inputFiles)
            {
                if (!FileIdentity.Same(output, file)) continue;
                var role = string.Equals(Path.GetFullPath(file), Path.GetFullPath(inputPath), StringComparison.Ordinal) ? "the input model" : "the input model's external data file";
                var what = output == outputPath ? $"The output path '{outputPath}'" : $"The output's data file '{output}'";
                throw new ArgumentException($"{what} is {role} ('{file}'); writing it would destroy the float model. Choose an output name in another folder or with another name.", nameof(outputPath));
            }
        }
    }

    /// <summary>The model file and every external data file its tensors point to.</summary>
    public static IEnumerable<string> InputFiles(string inputPath, OnnxModel input)
    {
        yield return Path.GetFullPath(inputPath);
        var folder = input.BaseDirectory ?? Path.GetDirectoryName(Path.GetFullPath(inputPath))!;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in input.Graph.Initializer.Where(ExternalDataReference.IsExternal))
        {
            var path = ExternalDataReference.Parse(tensor).ResolvePath(folder, tensor.Name);
            if (seen.Add(path)) yield return path;
        }
    }
}
