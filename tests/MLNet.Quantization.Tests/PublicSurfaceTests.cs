using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;
using TinyBert.Encoder;

namespace MLNet.Quantization.Tests;

public class PublicSurfaceTests
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void No_public_type_or_member_of_the_library_exposes_protobuf_or_the_graph_internals()
    {
        var library = typeof(OnnxQuantizer).Assembly;
        var exported = library.GetExportedTypes();
        Assert.DoesNotContain(exported, t => t.Namespace == "MLNet.Quantization.Onnx.Protos");
        Assert.DoesNotContain(exported, t => t.Name is "GraphEditor" or "TensorData" or "NodeAttributes" or "QuantMath" or "WeightQuantizer");
        var leaks = new List<string>();
        foreach (var type in exported)
        {
            foreach (var member in type.GetMembers(Declared))
            {
                var types = member switch
                {
                    MethodBase method => method.GetParameters().Select(p => p.ParameterType).Append((method as MethodInfo)?.ReturnType ?? typeof(void)),
                    PropertyInfo property => new[] { property.PropertyType },
                    FieldInfo field => new[] { field.FieldType },
                    _ => Array.Empty<Type>(),
                };
                foreach (var t in types.Select(t => t.IsArray || t.IsByRef ? t.GetElementType()! : t))
                {
                    if (t.Assembly == typeof(Google.Protobuf.IMessage).Assembly || (t.Assembly == library && !t.IsVisible))
                        leaks.Add($"{type.Name}.{member.Name}: {t.Name}");
                }
            }
        }
        Assert.Empty(leaks);
    }

    [Fact]
    public void A_model_built_with_the_public_builder_runs_in_onnx_runtime()
    {
        var b = new GraphBuilder("public-builder", 13);
        var x = b.Input("x", TensorElementType.Float, "batch", 4L);
        var shape = b.Initializer("shape", new long[] { 2 }, new long[] { -1, 2 });
        var y = b.Node("Reshape", new[] { b.Node("Mul", new[] { x, b.Initializer("two", Array.Empty<long>(), new[] { 2f }) }), shape });
        b.Node("Softmax", new[] { y }, "probabilities", OnnxAttribute.Int("axis", -1));
        b.Output("probabilities", TensorElementType.Float, "batch", 2L);
        using var session = new InferenceSession(OnnxModelFile.ToBytes(b.Build()));
        var input = new DenseTensor<float>(new[] { 0f, 1f, 2f, 2f }, new[] { 1, 4 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("x", input) });
        var p = results.Single().AsTensor<float>().ToArray();
        Assert.Equal(1f / (1f + MathF.Exp(2f)), p[0], 5);
        Assert.Equal(0.5f, p[2], 5);
        Assert.Equal(new[] { 2, 2 }, results.Single().AsTensor<float>().Dimensions.ToArray());
    }

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
