namespace MLNet.Quantization.Onnx;

/// <summary>Where a saved model keeps its tensor data.</summary>
public enum ExternalDataMode
{
    /// <summary>Inline, unless the model would not fit in one protobuf message (2 GiB): then external.</summary>
    Auto = 0,

    /// <summary>Always inline; saving a model over 2 GiB fails with a clear error.</summary>
    Never = 1,

    /// <summary>Large tensors go to a data file next to the model (<c>model.onnx.data</c>).</summary>
    Always = 2,
}
