using Microsoft.ML.OnnxRuntime;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;

namespace MLNet.Quantization.Tests.TinyBert;

public class EncoderGraphTests
{
    [Fact]
    public void The_tiny_bert_lab_edits_an_encoder_through_its_protobuf_subset_without_losing_fields_it_does_not_declare()
    {
        var model = ModelZoo.BertModelBuilder.Build(new ModelZoo.BertShape(Vocabulary: 50, Hidden: 16, Layers: 1, Heads: 2, FeedForward: 32, MaxPositions: 16, Sequence: 8));
        model.Proto.Graph.Input.Add(GraphBuilder.ValueInfo("token_type_ids", Onnx.Protos.TensorProto.Types.DataType.Int64, "batch", "sequence"));
        foreach (var input in model.Proto.Graph.Input) input.Type.TensorType.Shape.Dim[1] = new Onnx.Protos.TensorShapeProto.Types.Dimension { DimParam = "sequence" };
        var original = model.Proto.Clone();
        var prepared = OnnxModelFile.Load(EncoderGraph.PrepareForPipeline(OnnxModelFile.ToBytes(model), "bert", 8)).Proto;

        Assert.Equal(original.OpsetImport, prepared.OpsetImport);
        Assert.Equal(original.IrVersion, prepared.IrVersion);
        Assert.Equal(original.Graph.Initializer.Count + 1, prepared.Graph.Initializer.Count);
        Assert.Equal(original.Graph.Initializer[0].RawData, prepared.Graph.Initializer[0].RawData);
        Assert.Equal(original.Graph.Node.Count + 1, prepared.Graph.Node.Count);
        Assert.Equal(EncoderGraph.ClsOutput, prepared.Graph.Output.Last().Name);
        Assert.All(prepared.Graph.Input, i => Assert.Equal(8, i.Type.TensorType.Shape.Dim[1].DimValue));
        using var session = new InferenceSession(OnnxModelFile.ToBytes(new OnnxModel(prepared)));
        Assert.Equal(new[] { -1, 16 }, session.OutputMetadata[EncoderGraph.ClsOutput].Dimensions);
    }
}
