using Google.Protobuf;
using TinyBert.Encoder.OnnxSubset;

namespace TinyBert.Encoder;

/// <summary>
/// Checks an encoder's interface, fixes its sequence length (ML.NET's ApplyOnnxModel needs known input sizes beyond
/// the batch) and adds the [CLS] feature output the ML.NET head reads. Works on the file's bytes through a subset of
/// ONNX's messages (onnx_subset.proto); fields it does not declare pass through unchanged.
/// </summary>
public static class EncoderGraph
{
    /// <summary>The added output: last_hidden_state at position 0, [batch, hidden].</summary>
    public const string ClsOutput = "cls_embedding";

    private const int Int64Type = 7;
    private const int FloatType = 1;
    private const int IntAttribute = 2;
    private const int ExternalData = 1;

    /// <summary>
    /// Checks that the model has the inputs input_ids / attention_mask / token_type_ids (int64) and the output
    /// last_hidden_state, sets the inputs' sequence dimension to <paramref name="sequence"/>, then adds
    /// <see cref="ClsOutput"/> (unless present). Returns the prepared model's bytes; <paramref name="source"/> names the
    /// model in errors.
    /// </summary>
    public static byte[] PrepareForPipeline(byte[] modelBytes, string source, int sequence)
    {
        var model = ModelProto.Parser.ParseFrom(modelBytes);
        var graph = model.Graph ?? throw new InvalidDataException($"{source}: the file holds no ONNX graph.");
        if (graph.Initializer.Any(t => t.DataLocation == ExternalData))
            throw new InvalidDataException($"{source}: the encoder keeps its weights in external data files; export it with the weights inside the .onnx file.");
        foreach (var name in BertOnnxBuilder.InputNames)
        {
            var input = graph.Input.FirstOrDefault(i => i.Name == name)
                ?? throw new InvalidDataException($"{source}: the encoder has no input '{name}' (it has: {string.Join(", ", graph.Input.Select(i => i.Name))}). A BERT export with input_ids, attention_mask and token_type_ids is needed.");
            if (input.Type?.TensorType?.ElemType != Int64Type)
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
        if (graph.Output.All(o => o.Name != ClsOutput)) AddClsOutput(graph, dims[2].DimValue);
        return model.ToByteArray();
    }

    private static void AddClsOutput(GraphProto graph, long hiddenSize)
    {
        var names = graph.Node.SelectMany(n => n.Output).Concat(graph.Initializer.Select(t => t.Name)).Concat(graph.Input.Select(i => i.Name)).ToHashSet();
        var index = Enumerable.Range(0, int.MaxValue).Select(i => i == 0 ? "cls_position" : $"cls_position_{i}").First(n => !names.Contains(n));
        var position = new TensorProto { Name = index, DataType = Int64Type };
        position.Int64Data.Add(0);
        graph.Initializer.Add(position);
        var gather = new NodeProto { OpType = "Gather", Name = $"{ClsOutput}_Gather" };
        gather.Input.Add("last_hidden_state");
        gather.Input.Add(index);
        gather.Output.Add(ClsOutput);
        gather.Attribute.Add(new AttributeProto { Name = "axis", Type = IntAttribute, I = 1 });
        graph.Node.Add(gather);
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = hiddenSize });
        graph.Output.Add(new ValueInfoProto { Name = ClsOutput, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } } });
    }
}
