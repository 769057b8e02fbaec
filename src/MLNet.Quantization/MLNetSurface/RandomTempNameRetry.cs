namespace MLNet.Quantization;

/// <summary>
/// Works around a rare ML.NET failure: <c>ApplyOnnxModel</c> over bytes or a stream writes the model to a temp file
/// named by <see cref="Path.GetRandomFileName"/>, whose random three-letter extension is "ort" about once in 32,768
/// calls. ONNX Runtime then reads the ONNX protobuf as an ORT-format flatbuffer and fails with
/// "ORT model verification failed". A retry draws a new name.
/// </summary>
internal static class RandomTempNameRetry
{
    private const int Attempts = 4;

    /// <summary>Runs <paramref name="create"/>, again (with a fresh temp name) when it failed on ML.NET's ".ort" temp name.</summary>
    public static T Run<T>(Func<T> create)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return create();
            }
            catch (Exception error) when (attempt < Attempts && IsOrtFormatMisread(error))
            {
            }
        }
    }

    /// <summary>True when the error chain holds ONNX Runtime's ORT-format verification failure.</summary>
    public static bool IsOrtFormatMisread(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("ORT model verification failed", StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
