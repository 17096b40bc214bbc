using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// Y[i, r] += Σ_k W[r, k] X[i, k] for a row-major W [rows, cols] and <c>n</c> rows of X and Y at given strides.
        /// Register-blocked: four rows of W against two rows of X at a time, eight accumulators; the columns split at
        /// generation time into full vectors of the path's width, at most one narrower vector of each smaller width, then
        /// scalars, so nothing is read twice or past a row. One row of X (n = 1) is the matrix-vector product of streaming.
        /// </summary>
        private static void Gemm(SourceWriter w, int rows, int cols, TargetInfo target)
        {
            w.Line($"/// <summary>Y[i, r] += Σ_k W[r, k] X[i, k] for W [{Num(rows)}, {Num(cols)}] row-major and i &lt; n, rows of X and Y at the given strides.</summary>");
            w.Open($"private static void {GemmName(rows, cols)}({RoSpan} w, {RoSpan} x, int xStride, int n, {Span} y, int yStride)");
            w.Line($"ref float wRef = ref {Marshal}.GetReference(w);");
            w.Line($"ref float xRef = ref {Marshal}.GetReference(x);");
            w.Line($"ref float yRef = ref {Marshal}.GetReference(y);");
            w.Line("nuint xs = (nuint)xStride, ys = (nuint)yStride, count = (nuint)n;");
            var widths = new List<int>();
            if (target.HasVector512 && cols >= 16) widths.Add(16);
            if (target.HasVector128 && cols >= 8) widths.Add(8);
            if (target.HasVector128 && cols >= 4) widths.Add(4);
            bool first = true;
            foreach (int width in widths)
            {
                w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                GemmPath(w, rows, cols, width);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            w.Open("for (nuint i = 0; i < count; i++)");
            w.Open($"for (nuint r = 0; r < {Num(rows)}; r++)");
            w.Line("float sum = 0f;");
            w.Line($"for (nuint k = 0; k < {Num(cols)}; k++) sum += {Unsafe}.Add(ref wRef, r * {Num(cols)} + k) * {Unsafe}.Add(ref xRef, i * xs + k);");
            w.Line($"{Unsafe}.Add(ref yRef, i * ys + r) += sum;");
            w.Close();
            w.Close();
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        private static string VectorType(int width) => width switch { 16 => "Vector512", 8 => "Vector256", _ => "Vector128" };

        private static void GemmPath(SourceWriter w, int rows, int cols, int width)
        {
            int blocked = rows - rows % 4;
            if (blocked > 0)
            {
                w.Open($"for (nuint r = 0; r < {Num(blocked)}; r += 4)");
                GemmRowBlock(w, cols, width, 4, "r");
                w.Close();
            }
            for (int r = blocked; r < rows; r++)
            {
                w.Open("");
                GemmRowBlock(w, cols, width, 1, Num(r));
                w.Close();
            }
        }

        /// <summary><paramref name="wRows"/> rows of W starting at <paramref name="row"/>, against every row of X, two at a time.</summary>
        private static void GemmRowBlock(SourceWriter w, int cols, int width, int wRows, string row)
        {
            w.Line($"ref float w0 = ref {Unsafe}.Add(ref wRef, (nuint)({row}) * {Num(cols)});");
            for (int a = 1; a < wRows; a++) w.Line($"ref float w{Num(a)} = ref {Unsafe}.Add(ref w0, {Num(a * cols)});");
            w.Line("nuint i = 0;");
            w.Open("for (; i + 2 <= count; i += 2)");
            w.Line($"ref float x0 = ref {Unsafe}.Add(ref xRef, i * xs);");
            w.Line($"ref float x1 = ref {Unsafe}.Add(ref x0, xs);");
            GemmTile(w, cols, width, wRows, 2, row);
            w.Close();
            w.Open("if (i < count)");
            w.Line($"ref float x0 = ref {Unsafe}.Add(ref xRef, i * xs);");
            GemmTile(w, cols, width, wRows, 1, row);
            w.Close();
        }

        /// <summary>A tile of <paramref name="wRows"/> × <paramref name="xRows"/> dot products over all columns.</summary>
        private static void GemmTile(SourceWriter w, int cols, int width, int wRows, int xRows, string row)
        {
            string v = Intrinsics + VectorType(width);
            for (int a = 0; a < wRows; a++)
            {
                for (int b = 0; b < xRows; b++) w.Line($"var a{Num(a)}{Num(b)} = {v}<float>.Zero;");
            }
            int full = cols / width * width;
            if (full / width <= 4)
            {
                for (int k = 0; k < full; k += width) GemmChunk(w, v, Num(k), wRows, xRows);
            }
            else
            {
                w.Open($"for (nuint k = 0; k < {Num(full)}; k += {Num(width)})");
                GemmChunk(w, v, "k", wRows, xRows);
                w.Close();
            }
            for (int a = 0; a < wRows; a++)
            {
                for (int b = 0; b < xRows; b++) w.Line($"float s{Num(a)}{Num(b)} = {v}.Sum(a{Num(a)}{Num(b)});");
            }
            int offset = full;
            foreach (int narrow in new[] { 8, 4 })
            {
                if (narrow < width && cols - offset >= narrow)
                {
                    string nv = Intrinsics + VectorType(narrow);
                    for (int b = 0; b < xRows; b++) w.Line($"var x{Num(b)}_{Num(offset)} = {nv}.LoadUnsafe(ref x{Num(b)}, {Num(offset)});");
                    for (int a = 0; a < wRows; a++)
                    {
                        w.Line($"var w{Num(a)}_{Num(offset)} = {nv}.LoadUnsafe(ref w{Num(a)}, {Num(offset)});");
                        for (int b = 0; b < xRows; b++) w.Line($"s{Num(a)}{Num(b)} += {nv}.Sum(w{Num(a)}_{Num(offset)} * x{Num(b)}_{Num(offset)});");
                    }
                    offset += narrow;
                }
            }
            for (; offset < cols; offset++)
            {
                for (int b = 0; b < xRows; b++) w.Line($"float x{Num(b)}_{Num(offset)} = {Unsafe}.Add(ref x{Num(b)}, {Num(offset)});");
                for (int a = 0; a < wRows; a++)
                {
                    w.Line($"float w{Num(a)}_{Num(offset)} = {Unsafe}.Add(ref w{Num(a)}, {Num(offset)});");
                    for (int b = 0; b < xRows; b++) w.Line($"s{Num(a)}{Num(b)} += w{Num(a)}_{Num(offset)} * x{Num(b)}_{Num(offset)};");
                }
            }
            for (int b = 0; b < xRows; b++)
            {
                w.Line($"ref float y{Num(b)} = ref {Unsafe}.Add(ref yRef, (i + {Num(b)}) * ys + (nuint)({row}));");
                for (int a = 0; a < wRows; a++) w.Line($"{Unsafe}.Add(ref y{Num(b)}, {Num(a)}) += s{Num(a)}{Num(b)};");
            }
        }

        private static void GemmChunk(SourceWriter w, string v, string k, int wRows, int xRows)
        {
            string suffix = k == "k" ? "k" : k;
            for (int b = 0; b < xRows; b++) w.Line($"var x{Num(b)}_{suffix} = {v}.LoadUnsafe(ref x{Num(b)}, {k});");
            for (int a = 0; a < wRows; a++)
            {
                w.Line($"var w{Num(a)}_{suffix} = {v}.LoadUnsafe(ref w{Num(a)}, {k});");
                for (int b = 0; b < xRows; b++)
                {
                    w.Line($"a{Num(a)}{Num(b)} = {Rt}Kernels.MultiplyAdd(w{Num(a)}_{suffix}, x{Num(b)}_{suffix}, a{Num(a)}{Num(b)});");
                }
            }
        }

        private static string MatVecTName(int rows, int cols) => "MatVecT" + Num(rows) + "x" + Num(cols);

        /// <summary>
        /// y[c] += Σ_k x[k] Wᵀ[k, c] for a transposed weight Wᵀ [rows, cols] (row k holds column k of W): the output is
        /// split at generation time into blocks of up to 16 (Vector512) or 8 vectors kept in registers while k runs, then
        /// narrower vectors and scalar columns; no horizontal sums.
        /// </summary>
        private static void MatVecTransposed(SourceWriter w, int rows, int cols, TargetInfo target)
        {
            w.Line($"/// <summary>y[c] += Σ_k x[k] Wᵀ[k, c] for Wᵀ [{Num(rows)}, {Num(cols)}] row-major (the transposed weight).</summary>");
            w.Open($"private static void {MatVecTName(rows, cols)}({RoSpan} wt, {RoSpan} x, {Span} y)");
            w.Line($"ref float wRef = ref {Marshal}.GetReference(wt);");
            w.Line($"ref float xRef = ref {Marshal}.GetReference(x);");
            w.Line($"ref float yRef = ref {Marshal}.GetReference(y);");
            var widths = new List<int>();
            if (target.HasVector512 && cols >= 16) widths.Add(16);
            if (target.HasVector128 && cols >= 8) widths.Add(8);
            if (target.HasVector128 && cols >= 4) widths.Add(4);
            bool first = true;
            foreach (int width in widths)
            {
                w.Open($"{(first ? "if" : "else if")} ({Intrinsics}{VectorType(width)}.IsHardwareAccelerated)");
                int perBlock = width == 16 ? 16 : 8;
                int full = cols / width;
                for (int start = 0; start < full; start += perBlock)
                {
                    MatVecTBlock(w, rows, cols, width, start * width, System.Math.Min(perBlock, full - start));
                }
                int offset = full * width;
                foreach (int narrow in new[] { 8, 4 })
                {
                    if (narrow < width && cols - offset >= narrow)
                    {
                        MatVecTBlock(w, rows, cols, narrow, offset, 1);
                        offset += narrow;
                    }
                }
                if (offset < cols) MatVecTScalar(w, rows, cols, offset);
                w.Close();
                first = false;
            }
            if (!first) w.Open("else");
            MatVecTScalar(w, rows, cols, 0);
            if (!first) w.Close();
            w.Close();
            w.Line();
        }

        private static void MatVecTBlock(SourceWriter w, int rows, int cols, int width, int start, int vectors)
        {
            string v = Intrinsics + VectorType(width);
            w.Open("");
            for (int i = 0; i < vectors; i++) w.Line($"var a{Num(i)} = {v}.LoadUnsafe(ref yRef, {Num(start + i * width)});");
            w.Open($"for (nuint k = 0; k < {Num(rows)}; k++)");
            w.Line($"var xk = {v}.Create({Unsafe}.Add(ref xRef, k));");
            w.Line($"ref float row = ref {Unsafe}.Add(ref wRef, k * {Num(cols)} + {Num(start)});");
            for (int i = 0; i < vectors; i++) w.Line($"a{Num(i)} = {Rt}Kernels.MultiplyAdd({v}.LoadUnsafe(ref row, {Num(i * width)}), xk, a{Num(i)});");
            w.Close();
            for (int i = 0; i < vectors; i++) w.Line($"{v}.StoreUnsafe(a{Num(i)}, ref yRef, {Num(start + i * width)});");
            w.Close();
        }

        private static void MatVecTScalar(SourceWriter w, int rows, int cols, int start)
        {
            w.Open($"for (nuint c = {Num(start)}; c < {Num(cols)}; c++)");
            w.Line($"float sum = {Unsafe}.Add(ref yRef, c);");
            w.Line($"for (nuint k = 0; k < {Num(rows)}; k++) sum += {Unsafe}.Add(ref xRef, k) * {Unsafe}.Add(ref wRef, k * {Num(cols)} + c);");
            w.Line($"{Unsafe}.Add(ref yRef, c) = sum;");
            w.Close();
        }
    }
}
