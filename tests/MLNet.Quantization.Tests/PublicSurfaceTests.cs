using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Quantization.Onnx;

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
}
