using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// On every kernel and per-layer loop: compiled fully optimized on first call. Under tiered compilation these
        /// long-running loops would otherwise start as unoptimized code with on-stack replacement and take 30 calls per
        /// method to be recompiled; a layer method runs a handful of times per training step, so a benchmark or the first
        /// minutes of training measured that code (measured: training forward 1.3 s instead of 0.31 s for configuration 2).
        /// </summary>
        private const string HotPath = "[global::System.Runtime.CompilerServices.MethodImpl((global::System.Runtime.CompilerServices.MethodImplOptions)512)] // AggressiveOptimization (netstandard2.1 lacks the name)";

        /// <summary>The forward product on the packed transposed weights: M in panels of <paramref name="panelRows"/> rows.</summary>
        private static string GemmPanelsName(int inner, int outer, int panelRows) => "GemmP" + Num(inner) + "x" + Num(outer) + "r" + Num(panelRows);

        /// <summary>Columns per panel of the packed weights (<c>Kernels.PanelWidth</c>): four 512-bit vectors.</summary>
        internal const int PanelWidth = 64;

        /// <summary>Floats of a packed weight block of <paramref name="cols"/> columns in panels of <paramref name="panelRows"/> rows (<c>Kernels.PanelSize</c>).</summary>
        internal static int PanelSize(int cols, int panelRows) => (cols + PanelWidth - 1) / PanelWidth * PanelWidth * panelRows;

        /// <summary>
        /// How a kernel addresses its matrix M [inner, outer]: the panel layout of <c>Kernels.PackPanels</c> (forward, the
        /// transposed weights) and <c>Kernels.PackRowPanels</c> (backward, the weights), where element (k, c) lives at
        /// (c / 64) · PanelRows · 64 + k · 64 + c % 64: a register tile walks down one panel in memory order.
        /// </summary>
        private readonly struct MLayout
        {
            public MLayout(int outer, int panelRows) { Outer = outer; PanelRows = panelRows; }

            public int Outer { get; }

            /// <summary>Rows per panel: the rows of the whole matrix a slice of which the kernel reads.</summary>
            public int PanelRows { get; }

            /// <summary>Floats from a row to the next within a panel.</summary>
            public string RowStride => Num(PanelWidth);

            /// <summary>Offset of column <paramref name="col"/> in row 0.</summary>
            public string Column(string col) => $"({col} >> 6) * {Num(PanelRows * PanelWidth)} + ({col} & 63)";

            /// <summary>Offset of element (k, c).</summary>
            public string Index(string k, string c) => $"({c} >> 6) * {Num(PanelRows * PanelWidth)} + {k} * {Num(PanelWidth)} + ({c} & 63)";
        }

        private static string GemmTNName(int rows, int cols) => "GemmTN" + Num(rows) + "x" + Num(cols);

        private static string VectorType(int width) => width switch { 16 => "Vector512", 8 => "Vector256", _ => "Vector128" };

        private static List<int> Widths(int cols, TargetInfo target)
        {
            var widths = new List<int>();
            if (target.HasVector512 && cols >= 16) widths.Add(16);
            if (target.HasVector128 && cols >= 8) widths.Add(8);
            if (target.HasVector128 && cols >= 4) widths.Add(4);
            return widths;
        }

        /// <summary>Vectors per register tile column panel, by width: 4 x 16 floats (AVX-512, 32 registers), 2 x 8 or 2 x 4 (16 registers).</summary>
        private static int PanelVectors(int width) => width == 16 ? 4 : 2;

        /// <summary>
        /// Rows per register tile, by width: 6 rows x 4 vectors of 16 floats use 24 of AVX-512's 32 registers (chosen by
        /// measurement over 4x4, 12x2, 8x3 and 14x2 on the benchmark shapes); 6 x 2 use 12 of AVX2's 16.
        /// </summary>
        private static int TileRows(int width) => 6;

        /// <summary>
        /// Cache blocking of the matrix product, chosen by measurement on the benchmark shapes: 48 rows of X at a time (a
        /// block of X stays in L2 while every column panel passes over it) and 256 of the inner dimension (the matching
        /// slice of M, at most 1 MB for 1024 columns, stays in L2 across row blocks). Y is read and written once per slice.
        /// </summary>
        private const int GemmRowBlock = 48, GemmInnerBlock = 256;

        /// <summary>Vectors a single row keeps in registers across the inner loop (as <c>MatVecT</c>): enough independent FMA chains to hide latency.</summary>
        private static int RowBlockVectors(int width) => width == 16 ? 16 : 8;

        /// <summary>
        /// Y[i, :] += X[i, :] · M for M [inner, outer] row-major and i &lt; n (rows of X and Y at given strides): the
        /// broadcast form of a matrix product, with no horizontal sums. Blocked for cache (<see cref="GemmRowBlock"/>,
        /// <see cref="GemmInnerBlock"/>); inside a block, column panels of up to four vectors, and in each panel register
        /// tiles of <see cref="TileRows"/> rows of X accumulate over the inner dimension, so each vector loaded from M feeds
        /// that many FMAs. The 2 to 5 rows left over run as one smaller tile; a single row left over (batch 1) runs across
        /// all columns in blocks of up to 16 vectors, as the matrix-vector kernel does, so it keeps enough independent FMA
        /// chains. Columns that do not fill a vector are done in scalar code. Forward
        /// uses M = Wᵀ (the packed transposed weights), backward uses M = W (dL/dX = dL/dY · W).
        /// With a bias (a row of <paramref name="outer"/> floats) the kernel computes Y[i, :] = bias + X[i, :] · M instead:
        /// the accumulators of the first inner block start from the bias rather than from Y, so Y is neither filled with
        /// bias rows first nor read (the same sums, in the same order, as a copy of the bias followed by Y += X · M). For
        /// configuration 2 at batch 32 the separate copy was ≈ 4 % of a Forward: 16 MB of projection rows written once
        /// more, out of the caches by the time the product read them back.
        /// </summary>
        private static void Gemm(SourceWriter w, int inner, int outer, TargetInfo target, int panelRows)
        {
            var layout = new MLayout(outer, panelRows);
            Access a = Access.For(target);
            w.Line($"/// <summary>Y[i, :] += X[i, :] · M, or Y[i, :] = bias + X[i, :] · M when a bias [{Num(outer)}] is given, for M [{Num(inner)}, {Num(outer)}] in panels of {Num(panelRows)} rows (Kernels.PackPanels) and i &lt; n, rows of X and Y at the given strides.</summary>");
            w.Line(HotPath);
            w.Open($"private static void {GemmPanelsName(inner, outer, panelRows)}({RoSpan} m, {RoSpan} bias, {RoSpan} x, int xStride, int n, {Span} y, int yStride)");
            w.Line(a.Base("mRef", "m"));
            w.Line(a.Base("bRef", "bias"));
            w.Line("bool hasBias = !bias.IsEmpty;");
            w.Line(a.Base("xRef", "x"));
            w.Line(a.Base("yRef", "y"));
            w.Line("nuint xs = (nuint)xStride, ys = (nuint)yStride, count = (nuint)n;");
            List<int> widths = Widths(outer, target);
            bool first = true;
            foreach (int width in widths)
            {
                w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                int panel = PanelVectors(width) * width;
                int fullPanels = outer / panel;
                int remaining = (outer - fullPanels * panel) / width;
                int vectorCols = fullPanels * panel + remaining * width;
                int tileRows = TileRows(width);
                w.Line($"nuint tiled = count - count % {Num(tileRows)}, rest = count - tiled;");
                bool kBlocked = inner > GemmInnerBlock;
                string k0 = "0", kEnd = Num(inner);
                if (kBlocked)
                {
                    w.Open($"for (nuint k0 = 0; k0 < {Num(inner)}; k0 += {Num(GemmInnerBlock)})");
                    w.Line($"nuint kEnd = k0 + {Num(GemmInnerBlock)} < {Num(inner)} ? k0 + {Num(GemmInnerBlock)} : {Num(inner)};");
                    k0 = "k0";
                    kEnd = "kEnd";
                }
                w.Open($"for (nuint r0 = 0; r0 < tiled; r0 += {Num(GemmRowBlock)})");
                w.Line($"nuint rEnd = r0 + {Num(GemmRowBlock)} < tiled ? r0 + {Num(GemmRowBlock)} : tiled;");
                GemmPanels(w, outer, width, fullPanels, remaining, panel, col =>
                {
                    w.Open($"for (nuint i = r0; i < rEnd; i += {Num(tileRows)})");
                    GemmTile(w, a, layout, width, col.Vectors, tileRows, col.Start, k0, kEnd, kBlocked);
                    w.Close();
                });
                w.Close();
                w.Open("if (rest >= 2)");
                w.Line("nuint i = tiled;");
                GemmPanels(w, outer, width, fullPanels, remaining, panel, col =>
                {
                    for (int rows = 2; rows < tileRows; rows++)
                    {
                        w.Open($"{(rows == 2 ? "" : "else ")}if (rest == {Num(rows)})");
                        GemmTile(w, a, layout, width, col.Vectors, rows, col.Start, k0, kEnd, kBlocked);
                        w.Close();
                    }
                });
                w.Close();
                if (kBlocked) w.Close();
                w.Open("if (rest == 1)");
                w.Line(a.Ref("xRow", "xRef", "tiled * xs"));
                w.Line(a.Ref("yRow", "yRef", "tiled * ys"));
                RowBlocks(w, a, inner, width, outer / width, "xRow", "yRow", "mRef", layout, bias: "bRef");
                w.Close();
                if (vectorCols < outer) GemmScalarColumns(w, a, inner, layout, vectorCols);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            GemmScalarColumns(w, a, inner, layout, 0);
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>Emits <paramref name="body"/> once per column panel: a loop over the full panels, then the narrower last one.</summary>
        private static void GemmPanels(SourceWriter w, int outer, int width, int fullPanels, int remaining, int panel, System.Action<(string Start, int Vectors)> body)
        {
            if (fullPanels > 0)
            {
                w.Open($"for (nuint col = 0; col < {Num(fullPanels * panel)}; col += {Num(panel)})");
                body(("col", panel / width));
                w.Close();
            }
            if (remaining > 0)
            {
                w.Open("");
                w.Line($"nuint col = {Num(fullPanels * panel)};");
                body(("col", remaining));
                w.Close();
            }
        }

        /// <summary>
        /// y[c] += Σ_k x[k] M[k, c] for one row x over the first <paramref name="vectors"/> vectors of columns, in blocks
        /// of up to <see cref="RowBlockVectors"/> accumulators (a loop over blocks when there are many, so wide outputs keep
        /// the code small), then one block for the rest. With <paramref name="reverse"/> (the name of a bool in the generated
        /// code) the blocks run last to first when it is true; a product that would be one block becomes two of half the size
        /// so there is an order to alternate.
        /// </summary>
        private static void RowBlocks(SourceWriter w, Access a, int inner, int width, int vectors, string x, string y, string m, MLayout layout, string? reverse = null, string? bias = null)
        {
            int perBlock = RowBlockVectors(width);
            // Alternating the block order needs at least two blocks; half-size blocks keep 8 independent FMA chains.
            if (reverse is not null && vectors < 2 * perBlock && perBlock >= 16) perBlock /= 2;
            int fullBlocks = vectors / perBlock, rest = vectors % perBlock;
            if (reverse is not null && fullBlocks + (rest > 0 ? 1 : 0) > 1)
            {
                // Blocks in ascending order when `reverse` is false, descending when true (same sums either way).
                int restStart = fullBlocks * perBlock * width;
                if (rest > 0)
                {
                    w.Open($"if ({reverse})");
                    RowBlock(w, a, inner, width, rest, restStart, null, x, y, m, layout, bias);
                    w.Close();
                }
                w.Open($"for (nuint b = 0; b < {Num(fullBlocks)}; b++)");
                w.Line($"nuint start = ({reverse} ? {Num(fullBlocks - 1)} - b : b) * {Num(perBlock * width)};");
                RowBlock(w, a, inner, width, perBlock, perBlock * width, "start", x, y, m, layout, bias);
                w.Close();
                if (rest > 0)
                {
                    w.Open($"if (!{reverse})");
                    RowBlock(w, a, inner, width, rest, restStart, null, x, y, m, layout, bias);
                    w.Close();
                }
                return;
            }
            if (fullBlocks == 1) RowBlock(w, a, inner, width, perBlock, 0, null, x, y, m, layout, bias);
            else if (fullBlocks > 1)
            {
                w.Open($"for (nuint start = 0; start < {Num(fullBlocks * perBlock * width)}; start += {Num(perBlock * width)})");
                RowBlock(w, a, inner, width, perBlock, perBlock * width, "start", x, y, m, layout, bias);
                w.Close();
            }
            if (rest > 0) RowBlock(w, a, inner, width, rest, fullBlocks * perBlock * width, null, x, y, m, layout, bias);
        }

        /// <summary>
        /// One block of <paramref name="vectors"/> accumulators from column <paramref name="start"/> (a constant), or from the
        /// loop variable <paramref name="loopVar"/> when given (then <paramref name="start"/> is the loop's step, and the
        /// variable a multiple of it). In the panel
        /// layout the block's vectors are grouped by panel, one base reference per panel, so the k loop walks each panel in
        /// memory order.
        /// </summary>
        private static void RowBlock(SourceWriter w, Access a, int inner, int width, int vectors, int start, string? loopVar, string x, string y, string m, MLayout layout, string? bias = null)
        {
            string v = Intrinsics + VectorType(width);
            string first = loopVar ?? Num(start);
            w.Open("");
            w.Line(a.Ref("y0", y, first));
            // With a bias (the name of its ref; hasBias says whether there is one) the accumulators start from it, not from y.
            string source = "y0";
            if (bias is not null)
            {
                w.Line(a.Choose("s0", "hasBias", a.Location(bias, first), "y0"));
                source = "s0";
            }
            for (int i = 0; i < vectors; i++) w.Line($"var a{Num(i)} = {a.Load(v, source, Num(i * width), width)};");
            // (base of the group's first column, offset of each vector from it) per group of vectors read from one row.
            var groups = new List<(string Base, List<(int Vector, int Offset)> Members)>();
            if (loopVar is null)
            {
                int panel = -1, groupStart = 0;
                for (int i = 0; i < vectors; i++)
                {
                    int col = start + i * width;
                    if (col / PanelWidth != panel)
                    {
                        panel = col / PanelWidth;
                        groupStart = col;
                        groups.Add((Num(panel * layout.PanelRows * PanelWidth + col % PanelWidth), new List<(int, int)>()));
                    }
                    groups[groups.Count - 1].Members.Add((i, col - groupStart));
                }
            }
            else if (start % PanelWidth == 0)
            {
                // The loop steps by whole panels: vector i is in panel start / 64 + i * width / 64.
                for (int i = 0; i < vectors; i++)
                {
                    int panel = i * width / PanelWidth;
                    if (groups.Count <= panel) groups.Add(($"({loopVar} >> 6) * {Num(layout.PanelRows * PanelWidth)}{(panel > 0 ? " + " + Num(panel * layout.PanelRows * PanelWidth) : "")}", new List<(int, int)>()));
                    groups[panel].Members.Add((i, i * width % PanelWidth));
                }
            }
            else
            {
                // The block is narrower than a panel and divides it, so it lies inside one panel.
                var all = new List<(int, int)>();
                for (int i = 0; i < vectors; i++) all.Add((i, i * width));
                groups.Add((layout.Column(loopVar), all));
            }
            for (int g = 0; g < groups.Count; g++) w.Line(a.Ref($"m{Num(g)}", m, groups[g].Base));
            w.Open($"for (nuint k = 0; k < {Num(inner)}; k++)");
            w.Line($"var xk = {v}.Create({a.At(x, "k")});");
            for (int g = 0; g < groups.Count; g++)
            {
                w.Line(a.Ref($"row{Num(g)}", $"m{Num(g)}", $"k * {layout.RowStride}"));
                foreach ((int i, int offset) in groups[g].Members)
                    w.Line($"a{Num(i)} = {Cs}Kernels.MultiplyAdd({a.Load(v, $"row{Num(g)}", Num(offset), width)}, xk, a{Num(i)});");
            }
            w.Close();
            for (int i = 0; i < vectors; i++) w.Line(a.Store(v, $"a{Num(i)}", "y0", Num(i * width), width));
            w.Close();
        }

        /// <summary>
        /// One register tile of the product: <paramref name="rows"/> rows of Y by <paramref name="vectors"/> vectors from
        /// column <paramref name="col"/>, over the inner range [k0, kEnd). Its accumulators start from the bias when the
        /// kernel has one and this is the first inner block (<paramref name="kBlocked"/>: there are several), else from Y.
        /// </summary>
        private static void GemmTile(SourceWriter w, Access a, MLayout layout, int width, int vectors, int rows, string col, string k0, string kEnd, bool kBlocked)
        {
            string v = Intrinsics + VectorType(width);
            w.Line(a.RefWhen("b", "hasBias", "bRef", col));
            w.Line(kBlocked ? "bool fromBias = hasBias && k0 == 0;" : "bool fromBias = hasBias;");
            for (int r = 0; r < rows; r++)
            {
                w.Line(a.Ref($"y{Num(r)}", "yRef", $"(i + {Num(r)}) * ys + {col}"));
                w.Line(a.Ref($"x{Num(r)}", "xRef", $"(i + {Num(r)}) * xs"));
                w.Line(a.Choose($"s{Num(r)}", "fromBias", "b", $"y{Num(r)}"));
                for (int c = 0; c < vectors; c++) w.Line($"var a{Num(r)}{Num(c)} = {a.Load(v, $"s{Num(r)}", Num(c * width), width)};");
            }
            w.Line(a.Ref("panel", "mRef", layout.Column(col)));
            w.Open($"for (nuint k = {k0}; k < {kEnd}; k++)");
            w.Line(a.Ref("row", "panel", $"k * {layout.RowStride}"));
            for (int c = 0; c < vectors; c++) w.Line($"var m{Num(c)} = {a.Load(v, "row", Num(c * width), width)};");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"var b{Num(r)} = {v}.Create({a.At($"x{Num(r)}", "k")});");
                for (int c = 0; c < vectors; c++) w.Line($"a{Num(r)}{Num(c)} = {Cs}Kernels.MultiplyAdd(m{Num(c)}, b{Num(r)}, a{Num(r)}{Num(c)});");
            }
            w.Close();
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < vectors; c++) w.Line(a.Store(v, $"a{Num(r)}{Num(c)}", $"y{Num(r)}", Num(c * width), width));
            }
        }

        private static void GemmScalarColumns(SourceWriter w, Access a, int inner, MLayout layout, int start)
        {
            w.Open("for (nuint i = 0; i < count; i++)");
            w.Open($"for (nuint c = {Num(start)}; c < {Num(layout.Outer)}; c++)");
            w.Line($"float sum = hasBias ? {a.At("bRef", "c")} : {a.At("yRef", "i * ys + c")};");
            w.Line($"for (nuint k = 0; k < {Num(inner)}; k++) sum += {a.At("xRef", "i * xs + k")} * {a.At("mRef", layout.Index("k", "c"))};");
            w.Line($"{a.At("yRef", "i * ys + c")} = sum;");
            w.Close();
            w.Close();
        }

        /// <summary>
        /// C [rows, cols] += Σ_i A[i, :]ᵀ B[i, :] for i &lt; n (rows of A [n, rows] and B [n, cols] at given strides): the
        /// weight gradient dL/dW += dL/dYᵀ · X. Over blocks of <see cref="GemmTNRowBlock"/> rows of A and B: the block is
        /// first packed into <c>scratch</c> — A by quads of its columns ([rows / 4][block][4], so a tile's four broadcasts
        /// per i are one 16-byte run) and B in panels of 64 columns ([cols / 64][block][64]) — then register tiles of four
        /// rows of C by a panel of up to four vectors accumulate over the block. Read in place, the block's rows sit a
        /// row stride apart (4 KB for 1024 gates), all in the same L1 sets, and the kernel ran at 46–70 GFLOP/s. Rows of C
        /// past the last quad and columns that do not fill a vector read A and B in place.
        /// </summary>
        private static void GemmTN(SourceWriter w, int rows, int cols, TargetInfo target)
        {
            Access a = Access.For(target);
            w.Line($"/// <summary>C [{Num(rows)}, {Num(cols)}] += Σ_i A[i, :]ᵀ B[i, :] for i &lt; n, rows of A and B at the given strides, and sums [{Num(rows)}] += Σ_i A[i, :] when given; scratch holds {Num(GemmTNScratch(rows, cols))} floats.</summary>");
            w.Line($"private static void {GemmTNName(rows, cols)}({RoSpan} a, int aStride, {RoSpan} b, int bStride, int n, {Span} c, {Span} sums, {Span} scratch) => {GemmTNName(rows, cols)}(a, aStride, b, bStride, n, c, sums, scratch, 0, {Num(rows)});");
            w.Line();
            w.Line($"/// <summary>");
            w.Line($"/// Rows [rowFirst, rowEnd) of C [{Num(rows)}, {Num(cols)}] += Σ_i A[i, :]ᵀ B[i, :] for i &lt; n (rowFirst a multiple of 4), and the same");
            w.Line($"/// elements of sums += Σ_i A[i, :] when sums is not empty (a bias gradient, summed while A is packed instead of in a pass");
            w.Line($"/// of its own; row after row, as Kernels.SumRowsAdd adds them): each row is computed exactly as by the whole product,");
            w.Line($"/// so threads that take different rows get the same bits as one thread.");
            w.Line($"/// </summary>");
            w.Line(HotPath);
            w.Open($"private static void {GemmTNName(rows, cols)}({RoSpan} a, int aStride, {RoSpan} b, int bStride, int n, {Span} c, {Span} sums, {Span} scratch, int rowFirst, int rowEnd)");
            w.Line(a.Base("aRef", "a"));
            w.Line(a.Base("sRef", "sums"));
            w.Line("bool summing = !sums.IsEmpty;");
            w.Line(a.Base("bRef", "b"));
            w.Line(a.Base("cRef", "c"));
            w.Line(a.Base("aPack", "scratch"));
            w.Line(a.Ref("bPack", "aPack", Num(rows / 4 * 4 * GemmTNRowBlock)));
            w.Line("nuint as_ = (nuint)aStride, bs = (nuint)bStride, count = (nuint)n, rFirst = (nuint)rowFirst, rEnd = (nuint)rowEnd;");
            int blockedRows = rows - rows % 4;
            if (rows / 4 > 0) w.Line($"nuint tileEnd = rEnd < {Num(blockedRows)} ? rEnd : {Num(blockedRows)}; // rows of C in whole tiles of four");
            List<int> widths = Widths(cols, target);
            bool first = true;
            foreach (int width in widths)
            {
                string v = Intrinsics + VectorType(width);
                w.Open($"{(first ? "if" : "else if")} ({v}.IsHardwareAccelerated)");
                int panel = GemmTNPanelVectors(width) * width;
                int fullPanels = cols / panel;
                int remaining = (cols - fullPanels * panel) / width;
                int vectorCols = fullPanels * panel + remaining * width;
                int quads = rows / 4;
                w.Open($"for (nuint i0 = 0; i0 < count; i0 += {Num(GemmTNRowBlock)})");
                w.Line($"nuint block = count - i0 < {Num(GemmTNRowBlock)} ? count - i0 : {Num(GemmTNRowBlock)};");
                w.Open("for (nuint ii = 0; ii < block; ii++)");
                w.Line(a.Ref("aRow", "aRef", "(i0 + ii) * as_"));
                string v128 = Intrinsics + "Vector128";
                if (quads > 0) w.Line($"for (nuint q = rFirst >> 2; q < tileEnd >> 2; q++) {a.Store(v128, a.Load(v128, "aRow", "q * 4", 4), "aPack", $"q * {Num(4 * GemmTNRowBlock)} + ii * 4", 4)}");
                if (blockedRows < rows) w.Line($"if (summing) for (nuint r = rFirst > {Num(blockedRows)} ? rFirst : {Num(blockedRows)}; r < rEnd; r++) {a.At("sRef", "r")} += {a.At("aRow", "r")}; // rows of C past the last quad");
                w.Line(a.Ref("bRow", "bRef", "(i0 + ii) * bs"));
                w.Line($"for (nuint col = 0; col < {Num(vectorCols)}; col += {Num(width)}) {a.Store(v, a.Load(v, "bRow", "col", width), "bPack", $"(col >> 6) * {Num(GemmTNRowBlock * PanelWidth)} + ii * {Num(PanelWidth)} + (col & 63)", width)}");
                w.Close();
                if (quads > 0) GemmTNQuadSums(w, a);
                if (fullPanels > 0)
                {
                    w.Open($"for (nuint col = 0; col < {Num(fullPanels * panel)}; col += {Num(panel)})");
                    GemmTNRows(w, a, rows, cols, width, GemmTNPanelVectors(width), "col");
                    w.Close();
                }
                if (remaining > 0)
                {
                    w.Open("");
                    w.Line($"nuint col = {Num(fullPanels * panel)};");
                    GemmTNRows(w, a, rows, cols, width, remaining, "col");
                    w.Close();
                }
                w.Close();
                if (vectorCols < cols) GemmTNScalarColumns(w, a, rows, cols, vectorCols);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            w.Line($"if (summing) for (nuint i = 0; i < count; i++) for (nuint r = rFirst; r < rEnd; r++) {a.At("sRef", "r")} += {a.At("aRef", "i * as_ + r")};");
            GemmTNScalarColumns(w, a, rows, cols, 0);
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        /// <summary>
        /// sums[4q..4q+3] += the block's rows of A's quad q, read back from the packed quads (contiguous, in cache), row
        /// after row for each element; four quads at a time so four independent chains of adds overlap. Summed while
        /// the block is packed, the bias gradients cost no pass over the gate gradients of their own (a separate sum
        /// over configuration 2's 16 MB per layer and direction took 1.5 ms of its ≈ 85 ms backward).
        /// </summary>
        private static void GemmTNQuadSums(SourceWriter w, Access a)
        {
            string v = Intrinsics + "Vector128";
            int stride = 4 * GemmTNRowBlock;
            w.Open("if (summing)");
            w.Line("nuint q = rFirst >> 2, qEnd = tileEnd >> 2;");
            w.Open("for (; q + 4 <= qEnd; q += 4)");
            for (int j = 0; j < 4; j++) w.Line($"var t{Num(j)} = {a.Load(v, "sRef", $"(q + {Num(j)}) * 4", 4)};");
            w.Line(a.Ref("p", "aPack", $"q * {Num(stride)}"));
            w.Open("for (nuint ii = 0; ii < block; ii++)");
            for (int j = 0; j < 4; j++) w.Line($"t{Num(j)} += {a.Load(v, "p", $"{(j > 0 ? Num(j * stride) + " + " : "")}ii * 4", 4)};");
            w.Close();
            for (int j = 0; j < 4; j++) w.Line(a.Store(v, $"t{Num(j)}", "sRef", $"(q + {Num(j)}) * 4", 4));
            w.Close();
            w.Open("for (; q < qEnd; q++)");
            w.Line($"var t = {a.Load(v, "sRef", "q * 4", 4)};");
            w.Line($"for (nuint ii = 0; ii < block; ii++) t += {a.Load(v, "aPack", $"q * {Num(stride)} + ii * 4", 4)};");
            w.Line(a.Store(v, "t", "sRef", "q * 4", 4));
            w.Close();
            w.Close();
        }

        /// <summary>Floats of scratch a GemmTN kernel needs: the packed quads of A and the packed panels of B for one block.</summary>
        internal static int GemmTNScratch(int rows, int cols) => rows / 4 * 4 * GemmTNRowBlock + PanelSize(cols, GemmTNRowBlock);

        /// <summary>
        /// Rows of A and B per pass over C in GemmTN: C's tiles are loaded and stored once per block, and the block's rows
        /// of A and B stay in cache across C's tiles. Without it a product over every step of a batch (thousands of rows)
        /// streamed A and B from memory once per tile of C and ran at about a third of the speed (20 vs 55-75 GFLOP/s, measured).
        /// 128 rather than 32: C (2 MB for configuration 2's layer-1 input weights) then passes through the cache a quarter
        /// as often, while a block's 64-column panel of B (32 KB) still fits L1: GemmTN1024x512 over 4096 rows 112 → 130
        /// GFLOP/s, 1024x256 unchanged (kernel micro-benchmark, CPU time, best of 5, three alternating runs of each build;
        /// 256 rows: 124). Each element of C still sums its rows in order, so the bits do not depend on the block.
        /// </summary>
        private const int GemmTNRowBlock = 128;

        /// <summary>Vectors per GemmTN register tile: 4 rows of C by 4 x 16 floats (AVX-512) or 2 x 8 / 2 x 4.</summary>
        private static int GemmTNPanelVectors(int width) => width == 16 ? 4 : 2;

        private static void GemmTNRows(SourceWriter w, Access a, int rows, int cols, int width, int vectors, string col)
        {
            int blocked = rows - rows % 4;
            if (blocked > 0)
            {
                w.Open("for (nuint r = rFirst; r < tileEnd; r += 4)");
                GemmTNTile(w, a, cols, width, vectors, 4, col, packed: true);
                w.Close();
            }
            if (blocked < rows)
            {
                w.Open($"for (nuint r = rFirst > {Num(blocked)} ? rFirst : {Num(blocked)}; r < rEnd; r++)");
                GemmTNTile(w, a, cols, width, vectors, 1, col, packed: false);
                w.Close();
            }
        }

        private static void GemmTNTile(SourceWriter w, Access a, int cols, int width, int vectors, int rowCount, string col, bool packed)
        {
            string v = Intrinsics + VectorType(width);
            for (int r = 0; r < rowCount; r++)
            {
                w.Line(a.Ref($"c{Num(r)}", "cRef", $"(r + {Num(r)}) * {Num(cols)} + {col}"));
                for (int k = 0; k < vectors; k++) w.Line($"var a{Num(r)}{Num(k)} = {a.Load(v, $"c{Num(r)}", Num(k * width), width)};");
            }
            w.Line(a.Ref("bPanel", "bPack", $"({col} >> 6) * {Num(GemmTNRowBlock * PanelWidth)} + ({col} & 63)"));
            if (packed) w.Line(a.Ref("aQuad", "aPack", $"(r >> 2) * {Num(4 * GemmTNRowBlock)}"));
            w.Open("for (nuint ii = 0; ii < block; ii++)");
            w.Line(a.Ref("bRow", "bPanel", $"ii * {Num(PanelWidth)}"));
            w.Line(packed ? a.Ref("aRow", "aQuad", "ii * 4") : a.Ref("aRow", "aRef", "(i0 + ii) * as_ + r"));
            for (int k = 0; k < vectors; k++) w.Line($"var m{Num(k)} = {a.Load(v, "bRow", Num(k * width), width)};");
            for (int r = 0; r < rowCount; r++)
            {
                w.Line($"var s{Num(r)} = {v}.Create({a.At("aRow", Num(r))});");
                for (int k = 0; k < vectors; k++) w.Line($"a{Num(r)}{Num(k)} = {Cs}Kernels.MultiplyAdd(m{Num(k)}, s{Num(r)}, a{Num(r)}{Num(k)});");
            }
            w.Close();
            for (int r = 0; r < rowCount; r++)
            {
                for (int k = 0; k < vectors; k++) w.Line(a.Store(v, $"a{Num(r)}{Num(k)}", $"c{Num(r)}", Num(k * width), width));
            }
        }

        private static void GemmTNScalarColumns(SourceWriter w, Access a, int rows, int cols, int start)
        {
            w.Open("for (nuint r = rFirst; r < rEnd; r++)");
            w.Open($"for (nuint col = {Num(start)}; col < {Num(cols)}; col++)");
            w.Line($"float sum = {a.At("cRef", $"r * {Num(cols)} + col")};");
            w.Line($"for (nuint i = 0; i < count; i++) sum += {a.At("aRef", "i * as_ + r")} * {a.At("bRef", "i * bs + col")};");
            w.Line($"{a.At("cRef", $"r * {Num(cols)} + col")} = sum;");
            w.Close();
            w.Close();
        }

        private static string MatVecTName(int rows, int cols, int panelRows) => "MatVecT" + Num(rows) + "x" + Num(cols) + "r" + Num(panelRows);

        /// <summary>
        /// y[c] += Σ_k x[k] Wᵀ[k, c] for a transposed weight Wᵀ [rows, cols] (row k holds column k of W): the output is
        /// split at generation time into blocks of up to 16 (Vector512) or 8 vectors kept in registers while k runs, then
        /// narrower vectors and scalar columns; no horizontal sums.
        /// </summary>
        private static void MatVecTransposed(SourceWriter w, int rows, int cols, int panelRows, TargetInfo target)
        {
            var layout = new MLayout(cols, panelRows);
            Access a = Access.For(target);
            w.Line($"/// <summary>y[c] += Σ_k x[k] Wᵀ[k, c] for the transposed weight Wᵀ [{Num(rows)}, {Num(cols)}] in panels of {Num(panelRows)} rows (Kernels.PackPanels); <paramref name=\"reverse\"/> runs the column blocks last to first (same results).</summary>");
            w.Line(HotPath);
            w.Open($"private static void {MatVecTName(rows, cols, panelRows)}({RoSpan} wt, {RoSpan} x, {Span} y, bool reverse)");
            w.Line(a.Base("wRef", "wt"));
            w.Line(a.Base("xRef", "x"));
            w.Line(a.Base("yRef", "y"));
            bool first = true;
            foreach (int width in Widths(cols, target))
            {
                w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                int full = cols / width;
                RowBlocks(w, a, rows, width, full, "xRef", "yRef", "wRef", layout, "reverse");
                int offset = full * width;
                foreach (int narrow in new[] { 8, 4 })
                {
                    if (narrow < width && cols - offset >= narrow)
                    {
                        RowBlock(w, a, rows, narrow, 1, offset, null, "xRef", "yRef", "wRef", layout);
                        offset += narrow;
                    }
                }
                if (offset < cols) MatVecTScalar(w, a, rows, layout, offset);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            MatVecTScalar(w, a, rows, layout, 0);
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        private static string MatVecTHalfName(int rows, int cols, int panelRows) => "MatVecTHalf" + Num(rows) + "x" + Num(cols) + "r" + Num(panelRows);

        /// <summary>
        /// y[c] += Σ_k x[k] Wᵀ[k, c] as <see cref="MatVecTransposed"/>, reading Wᵀ's columns in full chunks of 32 from its
        /// bfloat16 copy (the interleaved layout of <c>Kernels.ToBFloat16Interleaved</c>: a 32-bit lane holds column j in
        /// its low half and column 16 + j in its high half, so a load of 16 lanes gives two vectors of 16 columns with one
        /// shift: column j is the lane shifted left by 16, column 16 + j the lane itself read as floats, the packing having
        /// chosen its high half for that) and the columns past the last chunk from the float copy. Products and sums are float.
        /// </summary>
        private static void MatVecTHalf(SourceWriter w, int rows, int cols, int panelRows, TargetInfo target)
        {
            int chunks = cols / 32, chunked = chunks * 32;
            Access a = Access.For(target);
            w.Line($"/// <summary>y[c] += Σ_k x[k] Wᵀ[k, c] for Wᵀ [{Num(rows)}, {Num(cols)}]: columns below {Num(chunked)} from the bfloat16 copy [{Num(rows)}, {Num(chunked)}], the rest from the float copy (panels of {Num(panelRows)} rows).</summary>");
            w.Line(HotPath);
            w.Open($"private static void {MatVecTHalfName(rows, cols, panelRows)}(global::System.ReadOnlySpan<ushort> wh, {RoSpan} wt, {RoSpan} x, {Span} y)");
            w.Line(a.Base("hRef", "wh", "ushort"));
            w.Line(a.Base("wRef", "wt"));
            w.Line(a.Base("xRef", "x"));
            w.Line(a.Base("yRef", "y"));
            if (chunks > 0)
            {
                bool first = true;
                foreach (int width in Widths(16, target))
                {
                    w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                    int loads = 16 / width;
                    int perBlock = System.Math.Max(1, (width == 16 ? 16 : 8) / (2 * loads));
                    int fullBlocks = chunks / perBlock;
                    if (fullBlocks > 0)
                    {
                        w.Open($"for (nuint start = 0; start < {Num(fullBlocks * perBlock * 32)}; start += {Num(perBlock * 32)})");
                        HalfBlock(w, a, rows, chunked, width, perBlock, "start");
                        w.Close();
                    }
                    if (chunks % perBlock > 0) HalfBlock(w, a, rows, chunked, width, chunks % perBlock, Num(fullBlocks * perBlock * 32));
                    w.Close();
                    first = false;
                }
                if (!first) w.Open("else");
                w.Open($"for (nuint c0 = 0; c0 < {Num(chunked)}; c0 += 32)");
                w.Open("for (nuint j = 0; j < 16; j++)");
                w.Line($"float lo = {a.At("yRef", "c0 + j")}, hi = {a.At("yRef", "c0 + 16 + j")};");
                w.Open($"for (nuint k = 0; k < {Num(rows)}; k++)");
                w.Line($"uint pair = {a.ReadUInt32("hRef", $"k * {Num(chunked)} + c0 + 2 * j")};");
                w.Line($"float xk = {a.At("xRef", "k")};");
                w.Line("lo += xk * global::System.BitConverter.Int32BitsToSingle((int)(pair << 16));");
                w.Line("hi += xk * global::System.BitConverter.Int32BitsToSingle((int)pair);");
                w.Close();
                w.Line($"{a.At("yRef", "c0 + j")} = lo;");
                w.Line($"{a.At("yRef", "c0 + 16 + j")} = hi;");
                w.Close();
                w.Close();
                if (!first) w.Close();
            }
            if (chunked < cols) MatVecTScalar(w, a, rows, new MLayout(cols, panelRows), chunked);
            w.Close();
            w.Line();
        }

        /// <summary>One register block of <paramref name="chunkCount"/> chunks of 32 columns from <paramref name="start"/>.</summary>
        private static void HalfBlock(SourceWriter w, Access a, int rows, int chunked, int width, int chunkCount, string start)
        {
            string v = Intrinsics + VectorType(width);
            int loads = 16 / width;
            w.Open("");
            w.Line(a.Ref("y0", "yRef", start));
            // Accumulator (chunk c, load i, half h) holds columns 32c + 16h + i * width.
            var names = new List<(string Name, int Column, int Lane, bool High)>();
            for (int c = 0; c < chunkCount; c++)
            {
                for (int i = 0; i < loads; i++)
                {
                    names.Add(($"a{Num(c)}_{Num(i)}l", 32 * c + i * width, 16 * c + i * width, false));
                    names.Add(($"a{Num(c)}_{Num(i)}h", 32 * c + 16 + i * width, 16 * c + i * width, true));
                }
            }
            foreach (var acc in names) w.Line($"var {acc.Name} = {a.Load(v, "y0", Num(acc.Column), width)};");
            w.Open($"for (nuint k = 0; k < {Num(rows)}; k++)");
            w.Line($"var xk = {v}.Create({a.At("xRef", "k")});");
            w.Line(a.UInt32Ref("row", "hRef", $"k * {Num(chunked)} + {start}"));
            for (int c = 0; c < chunkCount; c++)
            {
                for (int i = 0; i < loads; i++)
                {
                    string pair = $"p{Num(c)}_{Num(i)}";
                    w.Line($"var {pair} = {a.Load(v, "row", Num(16 * c + i * width), width, "uint")};");
                    w.Line($"a{Num(c)}_{Num(i)}l = {Cs}Kernels.MultiplyAdd({v}.AsSingle({pair} << 16), xk, a{Num(c)}_{Num(i)}l);");
                    w.Line($"a{Num(c)}_{Num(i)}h = {Cs}Kernels.MultiplyAdd({v}.AsSingle({pair}), xk, a{Num(c)}_{Num(i)}h);");
                }
            }
            w.Close();
            foreach (var acc in names) w.Line(a.Store(v, acc.Name, "y0", Num(acc.Column), width));
            w.Close();
        }

        private static void MatVecTScalar(SourceWriter w, Access a, int rows, MLayout layout, int start)
        {
            w.Open($"for (nuint c = {Num(start)}; c < {Num(layout.Outer)}; c++)");
            w.Line($"float sum = {a.At("yRef", "c")};");
            w.Line($"for (nuint k = 0; k < {Num(rows)}; k++) sum += {a.At("xRef", "k")} * {a.At("wRef", layout.Index("k", "c"))};");
            w.Line($"{a.At("yRef", "c")} = sum;");
            w.Close();
        }
    }
}
