using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// On every per-layer loop: compiled fully optimized on first call. Under tiered compilation these long-running
        /// loops would otherwise start as unoptimized code with on-stack replacement and take 30 calls per method to be
        /// recompiled; a layer method runs a handful of times per training step, so a benchmark or the first minutes of
        /// training measured that code (measured: training forward 1.3 s instead of 0.31 s for configuration 2).
        /// </summary>
        private const string HotPath = "[global::System.Runtime.CompilerServices.MethodImpl((global::System.Runtime.CompilerServices.MethodImplOptions)512)] // AggressiveOptimization (netstandard2.1 lacks the name)";

        // The matrix products are the runtime's (Kernels.GemmP, GemmTN, MatVecT, MatVecTHalf), written once and generic
        // over the weight shape: a model declares one struct per shape it uses, whose members return constants, and the
        // JIT compiles one copy of each kernel per struct with every bound folded. The names below are those calls.

        /// <summary>Y = bias + X · M or Y += X · M for M [inner, outer] in panels of <paramref name="panelRows"/> rows.</summary>
        private static string GemmPanelsName(int inner, int outer, int panelRows) => $"{Cs}Kernels.GemmP<{ShapeName(inner, outer, panelRows)}>";

        /// <summary>C [rows, cols] += Aᵀ · B: the weight gradient.</summary>
        private static string GemmTNName(int rows, int cols) => $"{Cs}Kernels.GemmTN<{ShapeName(rows, cols, rows)}>";

        /// <summary>y += x · Wᵀ for one stream, Wᵀ [rows, cols] in panels of <paramref name="panelRows"/> rows.</summary>
        private static string MatVecTName(int rows, int cols, int panelRows) => $"{Cs}Kernels.MatVecT<{ShapeName(rows, cols, panelRows)}>";

        /// <summary>The same from the bfloat16 copy of Wᵀ.</summary>
        private static string MatVecTHalfName(int rows, int cols, int panelRows) => $"{Cs}Kernels.MatVecTHalf<{ShapeName(rows, cols, panelRows)}>";

        /// <summary>y += W x for one stream from the int8 copy of W [cols, rows] (x quantized per call).</summary>
        private static string MatVecTInt8Name(int rows, int cols) => $"{Cs}Kernels.MatVecTInt8<{ShapeName(rows, cols, rows)}>";

        /// <summary>Y = bias + X · Wᵀ or Y += X · Wᵀ from the int8 copy of W [outputs, inputs] (each row of X quantized). The last argument only names the weight.</summary>
        private static string Int8Gemm(int inputs, int outputs, string weight) => $"{Cs}Kernels.GemmPInt8<{ShapeName(inputs, outputs, inputs)}>";

        /// <summary>Bytes of the int8 copy of a weight [outputs, inputs] (<c>Kernels.QuantizeInt8Size</c>): 64-column panels of quad rows, then the int32 column sums.</summary>
        internal static int Int8Size(int outputs, int inputs) => (outputs + 63) / 64 * ((inputs + 3) / 4) * 256 + (outputs + 63) / 64 * 64 * 4;

        /// <summary>
        /// The weights inference reads as int8 (Weights = Int8), each [outputs, inputs]: every layer's W_ih (but a token
        /// layer's, which inference reads through the token table) and W_hh, and the head's.
        /// </summary>
        private static IEnumerable<(string Name, int Outputs, int Inputs)> Int8Matrices(ModelSpec m)
        {
            for (int layer = 0; layer < m.Layers; layer++)
            {
                for (int d = 0; d < m.Directions; d++)
                {
                    string id = LayerId(layer, d);
                    if (!(layer == 0 && m.Vocabulary > 0)) yield return ("Ih" + id, m.GateWidth, m.LayerInputWidth(layer));
                    yield return ("Hh" + id, m.GateWidth, m.Hidden);
                }
            }
            if (m.Output > 0) yield return ("Head", m.Output, m.LayerOutputWidth);
        }

        private static string ShapeName(int rows, int cols, int panelRows) => "Shape" + Num(rows) + "x" + Num(cols) + "r" + Num(panelRows);

        /// <summary>Columns per panel of the packed weights (<c>Kernels.PanelWidth</c>): four 512-bit vectors.</summary>
        internal const int PanelWidth = 64;

        /// <summary>Floats of a packed weight block of <paramref name="cols"/> columns in panels of <paramref name="panelRows"/> rows (<c>Kernels.PanelSize</c>).</summary>
        internal static int PanelSize(int cols, int panelRows) => (cols + PanelWidth - 1) / PanelWidth * PanelWidth * panelRows;

        /// <summary>Floats of scratch a GemmTN product needs (<c>Kernels.GemmTNScratchSize</c>): A's block packed by quads of rows, B's in panels, 128 rows a block.</summary>
        internal static int GemmTNScratch(int rows, int cols) => rows / 4 * 4 * 128 + PanelSize(cols, 128);

        /// <summary>Every weight shape the model's products use, one struct each: the constants the runtime's kernels are specialized on.</summary>
        private static void Shapes(SourceWriter w, ModelSpec m)
        {
            var shapes = new List<(int Rows, int Cols, int PanelRows)>();
            void Add((int, int, int) s) { if (!shapes.Contains(s)) shapes.Add(s); }
            foreach (var s in GemmPanelShapes(m)) Add(s);
            foreach ((int rows, int cols) in GemmTNShapes(m)) Add((rows, cols, rows));
            if (!m.Bidirectional)
            {
                foreach (var s in StepShapes(m)) Add(s);
            }
            if (m.Int8)
            {
                foreach ((_, int outputs, int inputs) in Int8Matrices(m)) Add((inputs, outputs, inputs));
            }
            if (m.Half)
            {
                for (int layer = 0; layer < m.Layers; layer++) Add((m.Hidden, m.GateWidth, PanelRows(m, layer)));
            }
            w.Line("// The weight shapes of the products, as constants: the runtime's kernels (Kernels.GemmP, GemmTN, MatVecT) are");
            w.Line("// generic over them, and the JIT compiles one copy per shape with every loop bound folded.");
            foreach ((int rows, int cols, int panelRows) in shapes)
                w.Line($"private struct {ShapeName(rows, cols, panelRows)} : {Cs}IMatrixShape {{ public int Rows => {Num(rows)}; public int Cols => {Num(cols)}; public int PanelRows => {Num(panelRows)}; }}");
        }
    }
}
