namespace MLNet.Quantization.Onnx;

/// <summary>
/// Thrown when a file or byte buffer is not a usable ONNX model: it cannot be parsed, it is empty or truncated,
/// it references external data that is missing, or its graph is inconsistent. The message names what is wrong and
/// what to do about it.
/// </summary>
public sealed class OnnxFormatException : Exception
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    /// <param name="message">What is wrong with the model and what to do.</param>
    public OnnxFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong with the model and what to do.</param>
    /// <param name="innerException">The underlying parse or I/O error.</param>
    public OnnxFormatException(string message, Exception innerException) : base(message, innerException) { }
}
