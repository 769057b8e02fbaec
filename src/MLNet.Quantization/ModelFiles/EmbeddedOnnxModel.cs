namespace MLNet.Quantization.ModelFiles;

/// <summary>An ONNX model stored inside an ML.NET model zip by an OnnxTransformer.</summary>
/// <param name="EntryName">The zip entry holding the model (<c>…/OnnxModel</c>).</param>
/// <param name="TransformerFolder">The transformer's folder in the zip with '/' separators (e.g. <c>TransformerChain/Transform_001</c>).</param>
/// <param name="Bytes">The serialized ONNX model.</param>
internal sealed record EmbeddedOnnxModel(string EntryName, string TransformerFolder, byte[] Bytes);
