using MLNet.Quantization.Onnx;
using MLNet.Quantization.Onnx.Protos;
using DataType = MLNet.Quantization.Onnx.Protos.TensorProto.Types.DataType;

namespace TinyBert.Encoder;

/// <summary>
/// Checks an encoder's interface, fixes its sequence length (ML.NET's ApplyOnnxModel needs known input sizes beyond
/// the batch) and adds the [CLS] feature output the ML.NET head reads.
/// </summary>
public static class EncoderGraph
{
    /// <summary>The added output: last_hidden_state at position 0, [batch, hidden].</summary>
    public const string ClsOutput = "cls_embedding";

    /// <summary>
    /// Checks that <paramref name="model"/> has the inputs input_ids / attention_mask / token_type_ids (int64) and
    /// the output last_hidden_state, sets the inputs' sequence dimension to <paramref name="sequence"/>, then adds
    /// <see cref="ClsOutput"/> (unless present). Returns the hidden size.
    /// </summary>
    public static long PrepareForPipeline(OnnxModel model, string source, int sequence)
    {
        var graph = model.Graph;
        foreach (var name in BertOnnxBuilder.InputNames)
        {
            var input = graph.Input.FirstOrDefault(i => i.Name == name)
                ?? throw new InvalidDataException($"{source}: the encoder has no input '{name}' (it has: {string.Join(", ", graph.Input.Select(i => i.Name))}). A BERT export with input_ids, attention_mask and token_type_ids is needed.");
            if (input.Type?.TensorType?.ElemType != (int)DataType.Int64)
                throw new InvalidDataException($"{source}: input '{name}' is not int64.");
            var inputDims = input.Type.TensorType.Shape?.Dim;
            if (inputDims is null || inputDims.Count != 2) throw new InvalidDataException($"{source}: input '{name}' should be [batch, sequence].");
            if (inputDims[1].HasDimValue && inputDims[1].DimValue != sequence) throw new InvalidDataException($"{source}: input '{name}' has sequence length {inputDims[1].DimValue}; the pipeline feeds {sequence} tokens.");
            inputDims[1] = new TensorShapeProto.Types.Dimension { DimValue = sequence };
        }
        var hidden = graph.Output.FirstOrDefault(o => o.Name == "last_hidden_state")
            ?? throw new InvalidDataException($"{source}: the encoder has no output 'last_hidden_state' (it has: {string.Join(", ", graph.Output.Select(o => o.Name))}).");
        var dims = hidden.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 3 || !dims[2].HasDimValue) throw new InvalidDataException($"{source}: last_hidden_state should be [batch, sequence, hidden] with a known hidden size.");
        long size = dims[2].DimValue;
        if (graph.Output.Any(o => o.Name == ClsOutput)) return size;

        var editor = new GraphEditor(model);
        var index = editor.UniqueName("cls_position");
        editor.AddInitializer(TensorData.FromInt64(index, Array.Empty<long>(), new long[] { 0 }));
        var gather = new NodeProto { OpType = "Gather", Name = editor.UniqueName("cls_Gather") };
        gather.Input.Add("last_hidden_state");
        gather.Input.Add(index);
        gather.Output.Add(ClsOutput);
        gather.Attribute.Add(NodeAttributes.Int("axis", 1));
        graph.Node.Add(gather);
        graph.Output.Add(GraphBuilder.ValueInfo(ClsOutput, DataType.Float, "batch", size));
        return size;
    }
}
