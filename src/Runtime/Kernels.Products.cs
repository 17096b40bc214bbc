using System;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

namespace RnnGen.CompilerServices;

// The matrix products of the models: the forward product on packed weight panels (GemmP), the weight gradient (GemmTN)
// and the single-stream matrix-vector product (MatVecT, and its bfloat16 form MatVecTHalf). Each is written once,
// generic over the weight shape (IMatrixShape, constants) and over the vector width (IVectorOps): the JIT compiles one
// copy per shape and width, with every loop bound, tail and width test folded, which is the code a kernel written by
// hand for that shape would get. The public methods check every length once, then dispatch on the widest vector the
// machine accelerates; the cores run with no bounds checks (RNNGEN_BOUNDS_CHECKED: with them, a test mode).
public static partial class Kernels
{
    /// <summary>
    /// On every kernel with loops: compiled fully optimized on first call (AggressiveOptimization; netstandard2.1 lacks
    /// the name). Under tiered compilation a long-running loop would start as unoptimized code with on-stack replacement
    /// and take 30 calls to be recompiled; a layer's product runs a handful of times per training step.
    /// </summary>
    private const MethodImplOptions HotPath = (MethodImplOptions)512;

    /// <summary>Rows of X per register tile of <see cref="GemmP{TShape}"/>: 6 rows x 4 vectors of 16 use 24 of AVX-512's 32 registers (chosen by measurement over 4x4, 12x2, 8x3 and 14x2); 6 x 2 vectors use 12 of AVX2's 16.</summary>
    private const int TileRows = 6;

    /// <summary>
    /// Cache blocking of <see cref="GemmP{TShape}"/>, chosen by measurement on the benchmark shapes: 48 rows of X at a
    /// time (a block of X stays in L2 while every column panel passes over it) and 256 of the inner dimension (the
    /// matching slice of M, at most 1 MB for 1024 columns, stays in L2 across row blocks).
    /// </summary>
    private const int GemmRowBlock = 48, GemmInnerBlock = 256;

    /// <summary>
    /// Rows of A and B per pass over C in <see cref="GemmTN{TShape}(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, Span{float}, Span{float}, Span{float}, int, int)"/>:
    /// C's tiles are loaded and stored once per block, and the block's rows of A and B stay in cache across C's tiles
    /// (128 rather than 32: C passes through the cache a quarter as often, while a 64-column panel of B, 32 KB, still
    /// fits L1). Each element of C sums its rows in order, so the bits do not depend on the block.
    /// </summary>
    internal const int GemmTNRowBlock = 128;

    /// <summary>Floats of scratch <c>GemmTN</c> needs for C [<paramref name="rows"/>, <paramref name="cols"/>]: A's block packed by quads of rows and B's block in panels of 64 columns.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or the scratch would not fit in an array.</exception>
    public static int GemmTNScratchSize(int rows, int cols)
    {
        if (rows < 0) ThrowRange(nameof(rows), rows, "a row count of at least 0");
        if (cols < 0) ThrowRange(nameof(cols), cols, "a column count of at least 0");
        long size = GemmTNScratchLength(rows, cols);
        if (size > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(rows), $"The scratch of a [{rows}, {cols}] weight gradient, {size} floats, does not fit in an array.");
        return (int)size;
    }

    /// <summary>The scratch floats in 64-bit arithmetic (no size of a shape can wrap it): A's quads and B's panels for one block.</summary>
    private static long GemmTNScratchLength(int rows, int cols)
        => (long)(rows / 4) * 4 * GemmTNRowBlock + ((long)cols + PanelWidth - 1) / PanelWidth * PanelWidth * GemmTNRowBlock;

    // ---- GemmP: Y = bias + X · M, or Y += X · M -------------------------------------------------------------------

    /// <summary>
    /// Y[i, :] += X[i, :] · M, or Y[i, :] = bias + X[i, :] · M when a bias [Cols] is given, for i &lt; <paramref name="n"/>:
    /// M [Rows, Cols] in the panel layout of <see cref="PackPanels"/> (element (k, c) at (c / 64) · PanelRows · 64 +
    /// k · 64 + c % 64), rows of X and Y at the given strides. Forward uses M = Wᵀ, backward M = W.
    /// </summary>
    /// <remarks>
    /// Blocked for cache (48 rows of X, 256 of the inner dimension); inside a block, column panels of up to four vectors,
    /// and in each panel register tiles of six rows of X that accumulate over the inner dimension, so each vector loaded
    /// from M feeds six FMAs. The two to five rows left over run as one smaller tile; a single row left over (batch 1)
    /// runs across all columns in blocks of up to 16 vectors, as <see cref="MatVecT{TShape}"/> does. With a bias the
    /// accumulators of the first inner block start from it rather than from Y (the same sums in the same order as a copy
    /// of the bias followed by Y += X · M, without writing and re-reading Y).
    /// </remarks>
    [MethodImpl(HotPath)]
    public static void GemmP<TShape>(ReadOnlySpan<float> m, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, int xStride, int n, Span<float> y, int yStride)
        where TShape : struct, IMatrixShape
    {
        int inner = default(TShape).Rows, outer = default(TShape).Cols;
        CheckPanels<TShape>(m.Length, nameof(m));
        if (!bias.IsEmpty && bias.Length < outer) ThrowLength(nameof(bias), bias.Length, outer, " (or none)");
        CheckRows(x.Length, n, xStride, inner, nameof(x), nameof(xStride));
        CheckRows(y.Length, n, yStride, outer, nameof(y), nameof(yStride));
        nuint xs = (nuint)xStride, ys = (nuint)yStride, count = (nuint)n;
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated && outer >= 16) GemmP<TShape, Vector512<float>, Ops512>(m, bias, x, xs, count, y, ys);
        else if (Vector256.IsHardwareAccelerated && outer >= 8) GemmP<TShape, Vector256<float>, Ops256>(m, bias, x, xs, count, y, ys);
        else if (Vector128.IsHardwareAccelerated && outer >= 4) GemmP<TShape, Vector128<float>, Ops128>(m, bias, x, xs, count, y, ys);
        else
#endif
            GemmPScalarColumns<TShape>(m, bias, x, xs, count, y, ys, 0);
    }

#if NET8_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the entry, which is compiled fully optimized
    internal static void GemmP<TShape, TV, TOps>(ReadOnlySpan<float> m, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, nuint xs, nuint count, Span<float> y, nuint ys)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        nuint inner = (nuint)default(TShape).Rows, outer = (nuint)default(TShape).Cols, width = (nuint)default(TOps).Count;
        nuint panel = (nuint)PanelVectors<TOps>() * width;
        nuint fullPanels = outer / panel * panel;            // columns in whole panels
        int remaining = (int)((outer - fullPanels) / width); // vectors of the narrower last panel
        nuint vectorCols = fullPanels + (nuint)remaining * width;
        bool hasBias = !bias.IsEmpty;
        nuint tiled = count - count % TileRows, rest = count - tiled;
        nuint k0 = 0;
        do
        {
            nuint kEnd = k0 + GemmInnerBlock < inner ? k0 + GemmInnerBlock : inner;
            bool fromBias = hasBias && k0 == 0;
            for (nuint r0 = 0; r0 < tiled; r0 += GemmRowBlock)
            {
                nuint rEnd = r0 + GemmRowBlock < tiled ? r0 + GemmRowBlock : tiled;
                for (nuint col = 0; col < fullPanels; col += panel)
                {
                    for (nuint i = r0; i < rEnd; i += TileRows) GemmTiles<TShape, TV, TOps, N6>(PanelVectors<TOps>(), m, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd);
                }
                if (remaining > 0)
                {
                    for (nuint i = r0; i < rEnd; i += TileRows) GemmTiles<TShape, TV, TOps, N6>(remaining, m, bias, fromBias, x, xs, y, ys, i, fullPanels, k0, kEnd);
                }
            }
            if (rest >= 2)
            {
                for (nuint col = 0; col < fullPanels; col += panel) GemmRestTile<TShape, TV, TOps>((int)rest, PanelVectors<TOps>(), m, bias, fromBias, x, xs, y, ys, tiled, col, k0, kEnd);
                if (remaining > 0) GemmRestTile<TShape, TV, TOps>((int)rest, remaining, m, bias, fromBias, x, xs, y, ys, tiled, fullPanels, k0, kEnd);
            }
            k0 += GemmInnerBlock;
        }
        while (k0 < inner);
        if (rest == 1)
        {
            // One row (batch 1): across all columns in blocks of accumulators, over the whole inner dimension.
            ReadOnlySpan<float> from = hasBias ? bias : (ReadOnlySpan<float>)y;
            nuint fromStart = hasBias ? 0 : tiled * ys;
            RowBlocks<TShape, TV, TOps>((int)(outer / width), m, SpanAccess.From(x, tiled * xs), from, fromStart, SpanAccess.From(y, tiled * ys), null);
        }
        if (vectorCols < outer) GemmPScalarColumns<TShape>(m, bias, x, xs, count, y, ys, vectorCols);
    }

    /// <summary>Column panels of four vectors (AVX-512: 6 x 4 accumulators of 32 registers), else two (6 x 2 of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PanelVectors<TOps>() where TOps : struct => default(TOps) is Ops512 ? 4 : 2;

    /// <summary>The rows left over below a multiple of six, as one tile of that many rows (a count known only at run time).</summary>
    [MethodImpl(HotPath)]
    private static void GemmRestTile<TShape, TV, TOps>(int rows, int vectors, ReadOnlySpan<float> m, ReadOnlySpan<float> bias, bool fromBias, ReadOnlySpan<float> x, nuint xs, Span<float> y, nuint ys, nuint i, nuint col, nuint k0, nuint kEnd)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        switch (rows)
        {
            case 2: GemmTiles<TShape, TV, TOps, N2>(vectors, m, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            case 3: GemmTiles<TShape, TV, TOps, N3>(vectors, m, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            case 4: GemmTiles<TShape, TV, TOps, N4>(vectors, m, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            default: GemmTiles<TShape, TV, TOps, N5>(vectors, m, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
        }
    }

    /// <summary>A tile of <typeparamref name="TRows"/> rows by <paramref name="vectors"/> (a constant where inlined: the switch folds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemmTiles<TShape, TV, TOps, TRows>(int vectors, ReadOnlySpan<float> m, ReadOnlySpan<float> bias, bool fromBias, ReadOnlySpan<float> x, nuint xs, Span<float> y, nuint ys, nuint i, nuint col, nuint k0, nuint kEnd)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV> where TRows : struct, ICount
    {
        nuint panelStride = (nuint)default(TShape).PanelRows * PanelWidth;
        switch (vectors)
        {
            case 1: GemmTile<TV, TOps, TRows, N1>(m, panelStride, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            case 2: GemmTile<TV, TOps, TRows, N2>(m, panelStride, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            case 3: GemmTile<TV, TOps, TRows, N3>(m, panelStride, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
            default: GemmTile<TV, TOps, TRows, N4>(m, panelStride, bias, fromBias, x, xs, y, ys, i, col, k0, kEnd); break;
        }
    }

    /// <summary>
    /// One register tile: <typeparamref name="TRows"/> rows of Y from row <paramref name="i"/> by <typeparamref name="TVectors"/>
    /// vectors from column <paramref name="col"/> (inside one panel), over the inner range [k0, kEnd). Not specialized on
    /// the shape: its loop reads the panel a row (64 floats) at a time whatever the shape, and the panel stride is used
    /// once, so every shape of a model (and of every model) shares the few tiles there are per width, each compiled once. Accumulators start
    /// from the bias when <paramref name="fromBias"/>, else from Y. Accumulator a{r}{c} is row r, vector c; the guards on
    /// the constants R and V fold, and the accumulators past them are never created.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void GemmTile<TV, TOps, TRows, TVectors>(ReadOnlySpan<float> m, nuint panelStride, ReadOnlySpan<float> bias, bool fromBias, ReadOnlySpan<float> x, nuint xs, Span<float> y, nuint ys, nuint i, nuint col, nuint k0, nuint kEnd)
        where TV : struct where TOps : struct, IVectorOps<TV> where TRows : struct, ICount where TVectors : struct, ICount
    {
        TOps v = default;
        nuint w = (nuint)v.Count;
        ReadOnlySpan<float> panel = SpanAccess.From(m, (col >> 6) * panelStride + (col & 63));
        Span<float> y0 = SpanAccess.From(y, i * ys + col), y1 = Unsafe.SizeOf<TRows>() > 1 ? SpanAccess.From(y0, ys) : default, y2 = Unsafe.SizeOf<TRows>() > 2 ? SpanAccess.From(y1, ys) : default;
        Span<float> y3 = Unsafe.SizeOf<TRows>() > 3 ? SpanAccess.From(y2, ys) : default, y4 = Unsafe.SizeOf<TRows>() > 4 ? SpanAccess.From(y3, ys) : default, y5 = Unsafe.SizeOf<TRows>() > 5 ? SpanAccess.From(y4, ys) : default;
        ReadOnlySpan<float> x0 = SpanAccess.From(x, i * xs), x1 = Unsafe.SizeOf<TRows>() > 1 ? SpanAccess.From(x0, xs) : default, x2 = Unsafe.SizeOf<TRows>() > 2 ? SpanAccess.From(x1, xs) : default;
        ReadOnlySpan<float> x3 = Unsafe.SizeOf<TRows>() > 3 ? SpanAccess.From(x2, xs) : default, x4 = Unsafe.SizeOf<TRows>() > 4 ? SpanAccess.From(x3, xs) : default, x5 = Unsafe.SizeOf<TRows>() > 5 ? SpanAccess.From(x4, xs) : default;
        ReadOnlySpan<float> b = fromBias ? SpanAccess.From(bias, col) : default;
        ReadOnlySpan<float> s0 = fromBias ? b : y0, s1 = fromBias ? b : y1, s2 = fromBias ? b : y2, s3 = fromBias ? b : y3, s4 = fromBias ? b : y4, s5 = fromBias ? b : y5;
        TV a00 = v.Load(s0, 0), a01 = Unsafe.SizeOf<TVectors>() > 1 ? v.Load(s0, w) : default, a02 = Unsafe.SizeOf<TVectors>() > 2 ? v.Load(s0, 2 * w) : default, a03 = Unsafe.SizeOf<TVectors>() > 3 ? v.Load(s0, 3 * w) : default;
        TV a10 = default, a11 = default, a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default;
        TV a30 = default, a31 = default, a32 = default, a33 = default, a40 = default, a41 = default, a42 = default, a43 = default;
        TV a50 = default, a51 = default, a52 = default, a53 = default;
        if (Unsafe.SizeOf<TRows>() > 1) { a10 = v.Load(s1, 0); if (Unsafe.SizeOf<TVectors>() > 1) a11 = v.Load(s1, w); if (Unsafe.SizeOf<TVectors>() > 2) a12 = v.Load(s1, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a13 = v.Load(s1, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 2) { a20 = v.Load(s2, 0); if (Unsafe.SizeOf<TVectors>() > 1) a21 = v.Load(s2, w); if (Unsafe.SizeOf<TVectors>() > 2) a22 = v.Load(s2, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a23 = v.Load(s2, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 3) { a30 = v.Load(s3, 0); if (Unsafe.SizeOf<TVectors>() > 1) a31 = v.Load(s3, w); if (Unsafe.SizeOf<TVectors>() > 2) a32 = v.Load(s3, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a33 = v.Load(s3, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 4) { a40 = v.Load(s4, 0); if (Unsafe.SizeOf<TVectors>() > 1) a41 = v.Load(s4, w); if (Unsafe.SizeOf<TVectors>() > 2) a42 = v.Load(s4, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a43 = v.Load(s4, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 5) { a50 = v.Load(s5, 0); if (Unsafe.SizeOf<TVectors>() > 1) a51 = v.Load(s5, w); if (Unsafe.SizeOf<TVectors>() > 2) a52 = v.Load(s5, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a53 = v.Load(s5, 3 * w); }
        for (nuint k = k0; k < kEnd; k++)
        {
            ReadOnlySpan<float> row = SpanAccess.From(panel, k * PanelWidth);
            TV m0 = v.Load(row, 0), m1 = Unsafe.SizeOf<TVectors>() > 1 ? v.Load(row, w) : default, m2 = Unsafe.SizeOf<TVectors>() > 2 ? v.Load(row, 2 * w) : default, m3 = Unsafe.SizeOf<TVectors>() > 3 ? v.Load(row, 3 * w) : default;
            TV b0 = v.Create(SpanAccess.Get(x0, k));
            a00 = v.MultiplyAdd(m0, b0, a00); if (Unsafe.SizeOf<TVectors>() > 1) a01 = v.MultiplyAdd(m1, b0, a01); if (Unsafe.SizeOf<TVectors>() > 2) a02 = v.MultiplyAdd(m2, b0, a02); if (Unsafe.SizeOf<TVectors>() > 3) a03 = v.MultiplyAdd(m3, b0, a03);
            if (Unsafe.SizeOf<TRows>() > 1) { TV b1 = v.Create(SpanAccess.Get(x1, k)); a10 = v.MultiplyAdd(m0, b1, a10); if (Unsafe.SizeOf<TVectors>() > 1) a11 = v.MultiplyAdd(m1, b1, a11); if (Unsafe.SizeOf<TVectors>() > 2) a12 = v.MultiplyAdd(m2, b1, a12); if (Unsafe.SizeOf<TVectors>() > 3) a13 = v.MultiplyAdd(m3, b1, a13); }
            if (Unsafe.SizeOf<TRows>() > 2) { TV b2 = v.Create(SpanAccess.Get(x2, k)); a20 = v.MultiplyAdd(m0, b2, a20); if (Unsafe.SizeOf<TVectors>() > 1) a21 = v.MultiplyAdd(m1, b2, a21); if (Unsafe.SizeOf<TVectors>() > 2) a22 = v.MultiplyAdd(m2, b2, a22); if (Unsafe.SizeOf<TVectors>() > 3) a23 = v.MultiplyAdd(m3, b2, a23); }
            if (Unsafe.SizeOf<TRows>() > 3) { TV b3 = v.Create(SpanAccess.Get(x3, k)); a30 = v.MultiplyAdd(m0, b3, a30); if (Unsafe.SizeOf<TVectors>() > 1) a31 = v.MultiplyAdd(m1, b3, a31); if (Unsafe.SizeOf<TVectors>() > 2) a32 = v.MultiplyAdd(m2, b3, a32); if (Unsafe.SizeOf<TVectors>() > 3) a33 = v.MultiplyAdd(m3, b3, a33); }
            if (Unsafe.SizeOf<TRows>() > 4) { TV b4 = v.Create(SpanAccess.Get(x4, k)); a40 = v.MultiplyAdd(m0, b4, a40); if (Unsafe.SizeOf<TVectors>() > 1) a41 = v.MultiplyAdd(m1, b4, a41); if (Unsafe.SizeOf<TVectors>() > 2) a42 = v.MultiplyAdd(m2, b4, a42); if (Unsafe.SizeOf<TVectors>() > 3) a43 = v.MultiplyAdd(m3, b4, a43); }
            if (Unsafe.SizeOf<TRows>() > 5) { TV b5 = v.Create(SpanAccess.Get(x5, k)); a50 = v.MultiplyAdd(m0, b5, a50); if (Unsafe.SizeOf<TVectors>() > 1) a51 = v.MultiplyAdd(m1, b5, a51); if (Unsafe.SizeOf<TVectors>() > 2) a52 = v.MultiplyAdd(m2, b5, a52); if (Unsafe.SizeOf<TVectors>() > 3) a53 = v.MultiplyAdd(m3, b5, a53); }
        }
        v.Store(a00, y0, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a01, y0, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a02, y0, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a03, y0, 3 * w);
        if (Unsafe.SizeOf<TRows>() > 1) { v.Store(a10, y1, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a11, y1, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a12, y1, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a13, y1, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 2) { v.Store(a20, y2, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a21, y2, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a22, y2, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a23, y2, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 3) { v.Store(a30, y3, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a31, y3, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a32, y3, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a33, y3, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 4) { v.Store(a40, y4, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a41, y4, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a42, y4, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a43, y4, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 5) { v.Store(a50, y5, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a51, y5, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a52, y5, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a53, y5, 3 * w); }
    }

    // ---- one row: y = from + x · M over every column, in blocks of accumulators ------------------------------------

    /// <summary>Vectors one row keeps in registers across the inner loop: enough independent FMA chains to hide latency (16 of AVX-512's 32 registers, 8 of AVX2's 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowBlockVectors<TOps>() where TOps : struct => default(TOps) is Ops512 ? 16 : 8;

    /// <summary>
    /// y[c] = from[c] + Σ_k x[k] M[k, c] for the first <paramref name="vectors"/> vectors of columns (a constant), in
    /// blocks of up to <see cref="RowBlockVectors{TOps}"/> accumulators and one block for the rest. With
    /// <paramref name="reverse"/> given, the blocks run last to first when it is true (the same sums either way: a
    /// model's Step alternates, so the weights one step leaves in cache are the next step's first); a product that would
    /// be one block becomes two of half the size so there is an order to alternate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowBlocks<TShape, TV, TOps>(int vectors, ReadOnlySpan<float> m, ReadOnlySpan<float> x, ReadOnlySpan<float> from, nuint fromStart, Span<float> y, bool? reverse)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int perBlock = RowBlockVectors<TOps>();
        nuint w = (nuint)default(TOps).Count;
        if (reverse is not null && vectors < 2 * perBlock && perBlock >= 16) perBlock /= 2;
        int fullBlocks = vectors / perBlock, rest = vectors % perBlock;
        nuint blockCols = (nuint)perBlock * w, restStart = (nuint)fullBlocks * blockCols;
        if (reverse is bool backwards && fullBlocks + (rest > 0 ? 1 : 0) > 1)
        {
            if (backwards && rest > 0) RowBlock<TShape, TV, TOps>(rest, m, restStart, x, from, fromStart + restStart, y, restStart);
            for (int b = 0; b < fullBlocks; b++)
            {
                nuint start = (nuint)(backwards ? fullBlocks - 1 - b : b) * blockCols;
                RowBlock<TShape, TV, TOps>(perBlock, m, start, x, from, fromStart + start, y, start);
            }
            if (!backwards && rest > 0) RowBlock<TShape, TV, TOps>(rest, m, restStart, x, from, fromStart + restStart, y, restStart);
            return;
        }
        for (nuint start = 0; start < restStart; start += blockCols) RowBlock<TShape, TV, TOps>(perBlock, m, start, x, from, fromStart + start, y, start);
        if (rest > 0) RowBlock<TShape, TV, TOps>(rest, m, restStart, x, from, fromStart + restStart, y, restStart);
    }

    /// <summary>A block of <paramref name="vectors"/> accumulators (a constant where inlined: the switch folds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowBlock<TShape, TV, TOps>(int vectors, ReadOnlySpan<float> m, nuint col, ReadOnlySpan<float> x, ReadOnlySpan<float> from, nuint fromStart, Span<float> y, nuint yStart)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        switch (vectors)
        {
            case 1: RowBlock<TShape, TV, TOps, N1>(m, col, x, from, fromStart, y, yStart); break;
            case 2: RowBlock<TShape, TV, TOps, N2>(m, col, x, from, fromStart, y, yStart); break;
            case 3: RowBlock<TShape, TV, TOps, N3>(m, col, x, from, fromStart, y, yStart); break;
            case 4: RowBlock<TShape, TV, TOps, N4>(m, col, x, from, fromStart, y, yStart); break;
            case 5: RowBlock<TShape, TV, TOps, N5>(m, col, x, from, fromStart, y, yStart); break;
            case 6: RowBlock<TShape, TV, TOps, N6>(m, col, x, from, fromStart, y, yStart); break;
            case 7: RowBlock<TShape, TV, TOps, N7>(m, col, x, from, fromStart, y, yStart); break;
            case 8: RowBlock<TShape, TV, TOps, N8>(m, col, x, from, fromStart, y, yStart); break;
            case 9: RowBlock<TShape, TV, TOps, N9>(m, col, x, from, fromStart, y, yStart); break;
            case 10: RowBlock<TShape, TV, TOps, N10>(m, col, x, from, fromStart, y, yStart); break;
            case 11: RowBlock<TShape, TV, TOps, N11>(m, col, x, from, fromStart, y, yStart); break;
            case 12: RowBlock<TShape, TV, TOps, N12>(m, col, x, from, fromStart, y, yStart); break;
            case 13: RowBlock<TShape, TV, TOps, N13>(m, col, x, from, fromStart, y, yStart); break;
            case 14: RowBlock<TShape, TV, TOps, N14>(m, col, x, from, fromStart, y, yStart); break;
            case 15: RowBlock<TShape, TV, TOps, N15>(m, col, x, from, fromStart, y, yStart); break;
            default: RowBlock<TShape, TV, TOps, N16>(m, col, x, from, fromStart, y, yStart); break;
        }
    }

    /// <summary>
    /// y[yStart + j] = from[fromStart + j] + Σ_k x[k] M[k, col + j] for j below <typeparamref name="TVectors"/> vectors.
    /// <paramref name="col"/> is a multiple of 64 (a panel's first column) or the block is one vector that does not
    /// cross a panel; vector i then lies in panel (col + i·W) / 64, at a constant offset from the block's first one,
    /// so the inner loop walks each panel in memory order from one base.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void RowBlock<TShape, TV, TOps, TVectors>(ReadOnlySpan<float> m, nuint col, ReadOnlySpan<float> x, ReadOnlySpan<float> from, nuint fromStart, Span<float> y, nuint yStart)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV> where TVectors : struct, ICount
    {
        TOps v = default;
        nuint inner = (nuint)default(TShape).Rows, ps = (nuint)default(TShape).PanelRows * PanelWidth, w = (nuint)v.Count;
        ReadOnlySpan<float> mb = SpanAccess.From(m, (col >> 6) * ps + (col & 63));
        ReadOnlySpan<float> s = SpanAccess.From(from, fromStart);
        Span<float> d = SpanAccess.From(y, yStart);
        // Offset of vector i from the block's base: whole panels, then columns within the panel.
        nuint o0 = 0, o1 = Offset(1, w, ps), o2 = Offset(2, w, ps), o3 = Offset(3, w, ps), o4 = Offset(4, w, ps), o5 = Offset(5, w, ps), o6 = Offset(6, w, ps), o7 = Offset(7, w, ps);
        nuint o8 = Offset(8, w, ps), o9 = Offset(9, w, ps), o10 = Offset(10, w, ps), o11 = Offset(11, w, ps), o12 = Offset(12, w, ps), o13 = Offset(13, w, ps), o14 = Offset(14, w, ps), o15 = Offset(15, w, ps);
        TV a0 = v.Load(s, 0), a1 = Unsafe.SizeOf<TVectors>() > 1 ? v.Load(s, w) : default, a2 = Unsafe.SizeOf<TVectors>() > 2 ? v.Load(s, 2 * w) : default, a3 = Unsafe.SizeOf<TVectors>() > 3 ? v.Load(s, 3 * w) : default;
        TV a4 = Unsafe.SizeOf<TVectors>() > 4 ? v.Load(s, 4 * w) : default, a5 = Unsafe.SizeOf<TVectors>() > 5 ? v.Load(s, 5 * w) : default, a6 = Unsafe.SizeOf<TVectors>() > 6 ? v.Load(s, 6 * w) : default, a7 = Unsafe.SizeOf<TVectors>() > 7 ? v.Load(s, 7 * w) : default;
        TV a8 = Unsafe.SizeOf<TVectors>() > 8 ? v.Load(s, 8 * w) : default, a9 = Unsafe.SizeOf<TVectors>() > 9 ? v.Load(s, 9 * w) : default, a10 = Unsafe.SizeOf<TVectors>() > 10 ? v.Load(s, 10 * w) : default, a11 = Unsafe.SizeOf<TVectors>() > 11 ? v.Load(s, 11 * w) : default;
        TV a12 = Unsafe.SizeOf<TVectors>() > 12 ? v.Load(s, 12 * w) : default, a13 = Unsafe.SizeOf<TVectors>() > 13 ? v.Load(s, 13 * w) : default, a14 = Unsafe.SizeOf<TVectors>() > 14 ? v.Load(s, 14 * w) : default, a15 = Unsafe.SizeOf<TVectors>() > 15 ? v.Load(s, 15 * w) : default;
        for (nuint k = 0; k < inner; k++)
        {
            TV xk = v.Create(SpanAccess.Get(x, k));
            ReadOnlySpan<float> row = SpanAccess.From(mb, k * PanelWidth);
            a0 = v.MultiplyAdd(v.Load(row, o0), xk, a0);
            if (Unsafe.SizeOf<TVectors>() > 1) a1 = v.MultiplyAdd(v.Load(row, o1), xk, a1);
            if (Unsafe.SizeOf<TVectors>() > 2) a2 = v.MultiplyAdd(v.Load(row, o2), xk, a2);
            if (Unsafe.SizeOf<TVectors>() > 3) a3 = v.MultiplyAdd(v.Load(row, o3), xk, a3);
            if (Unsafe.SizeOf<TVectors>() > 4) a4 = v.MultiplyAdd(v.Load(row, o4), xk, a4);
            if (Unsafe.SizeOf<TVectors>() > 5) a5 = v.MultiplyAdd(v.Load(row, o5), xk, a5);
            if (Unsafe.SizeOf<TVectors>() > 6) a6 = v.MultiplyAdd(v.Load(row, o6), xk, a6);
            if (Unsafe.SizeOf<TVectors>() > 7) a7 = v.MultiplyAdd(v.Load(row, o7), xk, a7);
            if (Unsafe.SizeOf<TVectors>() > 8) a8 = v.MultiplyAdd(v.Load(row, o8), xk, a8);
            if (Unsafe.SizeOf<TVectors>() > 9) a9 = v.MultiplyAdd(v.Load(row, o9), xk, a9);
            if (Unsafe.SizeOf<TVectors>() > 10) a10 = v.MultiplyAdd(v.Load(row, o10), xk, a10);
            if (Unsafe.SizeOf<TVectors>() > 11) a11 = v.MultiplyAdd(v.Load(row, o11), xk, a11);
            if (Unsafe.SizeOf<TVectors>() > 12) a12 = v.MultiplyAdd(v.Load(row, o12), xk, a12);
            if (Unsafe.SizeOf<TVectors>() > 13) a13 = v.MultiplyAdd(v.Load(row, o13), xk, a13);
            if (Unsafe.SizeOf<TVectors>() > 14) a14 = v.MultiplyAdd(v.Load(row, o14), xk, a14);
            if (Unsafe.SizeOf<TVectors>() > 15) a15 = v.MultiplyAdd(v.Load(row, o15), xk, a15);
        }
        v.Store(a0, d, 0);
        if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a1, d, w);
        if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a2, d, 2 * w);
        if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a3, d, 3 * w);
        if (Unsafe.SizeOf<TVectors>() > 4) v.Store(a4, d, 4 * w);
        if (Unsafe.SizeOf<TVectors>() > 5) v.Store(a5, d, 5 * w);
        if (Unsafe.SizeOf<TVectors>() > 6) v.Store(a6, d, 6 * w);
        if (Unsafe.SizeOf<TVectors>() > 7) v.Store(a7, d, 7 * w);
        if (Unsafe.SizeOf<TVectors>() > 8) v.Store(a8, d, 8 * w);
        if (Unsafe.SizeOf<TVectors>() > 9) v.Store(a9, d, 9 * w);
        if (Unsafe.SizeOf<TVectors>() > 10) v.Store(a10, d, 10 * w);
        if (Unsafe.SizeOf<TVectors>() > 11) v.Store(a11, d, 11 * w);
        if (Unsafe.SizeOf<TVectors>() > 12) v.Store(a12, d, 12 * w);
        if (Unsafe.SizeOf<TVectors>() > 13) v.Store(a13, d, 13 * w);
        if (Unsafe.SizeOf<TVectors>() > 14) v.Store(a14, d, 14 * w);
        if (Unsafe.SizeOf<TVectors>() > 15) v.Store(a15, d, 15 * w);
    }

    /// <summary>Offset in the panel layout of vector <paramref name="i"/> of a block that starts a panel: i·W columns on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint Offset(nuint i, nuint w, nuint panelStride) => (i * w >> 6) * panelStride + (i * w & 63);
#endif

    /// <summary>
    /// Columns from <paramref name="start"/> on of <see cref="GemmP{TShape}"/>, every row, in scalar code: the tail no
    /// vector fills, or the whole product on a machine without vectors (the portable path: Unity's Mono and IL2CPP).
    /// Blocks of eight columns: for each block, every row of X runs over the inner dimension with eight independent
    /// accumulators in registers, reading the block's eight consecutive floats of each panel row, so the block of M
    /// (eight columns by Rows) stays in L1 while the rows pass. Each column sums in the order of the one-column loop
    /// (start value, then k ascending), so the results are the same to the bit.
    /// </summary>
    internal static void GemmPScalarColumns<TShape>(ReadOnlySpan<float> m, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, nuint xs, nuint count, Span<float> y, nuint ys, nuint start)
        where TShape : struct, IMatrixShape
    {
        nuint outer = (nuint)default(TShape).Cols;
        bool hasBias = !bias.IsEmpty;
        nuint c = start;
        for (; c < outer && (c & 7) != 0; c++) GemmPScalarColumn<TShape>(m, bias, x, xs, count, y, ys, c);
        for (; c + 8 <= outer; c += 8)
        {
            for (nuint i = 0; i < count; i++)
            {
                if (hasBias) ScalarBlock8<TShape>(m, c, x, i * xs, bias, c, y, i * ys + c);
                else ScalarBlock8<TShape>(m, c, x, i * xs, y, i * ys + c, y, i * ys + c);
            }
        }
        for (; c < outer; c++) GemmPScalarColumn<TShape>(m, bias, x, xs, count, y, ys, c);
    }

    /// <summary>Column <paramref name="c"/> of <see cref="GemmP{TShape}"/> for every row, one accumulator.</summary>
    private static void GemmPScalarColumn<TShape>(ReadOnlySpan<float> m, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, nuint xs, nuint count, Span<float> y, nuint ys, nuint c)
        where TShape : struct, IMatrixShape
    {
        nuint inner = (nuint)default(TShape).Rows, o = (c >> 6) * ((nuint)default(TShape).PanelRows * PanelWidth) + (c & 63);
        bool hasBias = !bias.IsEmpty;
        for (nuint i = 0; i < count; i++)
        {
            float sum = hasBias ? SpanAccess.Get(bias, c) : SpanAccess.At(y, i * ys + c);
            for (nuint k = 0; k < inner; k++) sum += SpanAccess.Get(x, i * xs + k) * SpanAccess.Get(m, o + k * PanelWidth);
            SpanAccess.At(y, i * ys + c) = sum;
        }
    }

    /// <summary>
    /// y[0..8) = from[0..8) + Σ_k x[k] · M[k, c..c+8) for M [Rows, Cols] in the panel layout, with <paramref name="c"/> a
    /// multiple of 8 (so the eight columns sit in one panel, consecutive): eight independent accumulators, which a JIT
    /// keeps in registers and a C++ compiler (IL2CPP) can turn into one vector. <paramref name="from"/> may be y itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarBlock8<TShape>(ReadOnlySpan<float> m, nuint c, ReadOnlySpan<float> x, nuint xStart, ReadOnlySpan<float> from, nuint fromStart, Span<float> y, nuint yStart)
        where TShape : struct, IMatrixShape
    {
        nuint rows = (nuint)default(TShape).Rows;
        nuint o = (c >> 6) * ((nuint)default(TShape).PanelRows * PanelWidth) + (c & 63);
        float s0 = SpanAccess.Get(from, fromStart), s1 = SpanAccess.Get(from, fromStart + 1), s2 = SpanAccess.Get(from, fromStart + 2), s3 = SpanAccess.Get(from, fromStart + 3);
        float s4 = SpanAccess.Get(from, fromStart + 4), s5 = SpanAccess.Get(from, fromStart + 5), s6 = SpanAccess.Get(from, fromStart + 6), s7 = SpanAccess.Get(from, fromStart + 7);
        for (nuint k = 0; k < rows; k++, o += PanelWidth)
        {
            float xk = SpanAccess.Get(x, xStart + k);
            s0 += xk * SpanAccess.Get(m, o);
            s1 += xk * SpanAccess.Get(m, o + 1);
            s2 += xk * SpanAccess.Get(m, o + 2);
            s3 += xk * SpanAccess.Get(m, o + 3);
            s4 += xk * SpanAccess.Get(m, o + 4);
            s5 += xk * SpanAccess.Get(m, o + 5);
            s6 += xk * SpanAccess.Get(m, o + 6);
            s7 += xk * SpanAccess.Get(m, o + 7);
        }
        SpanAccess.At(y, yStart) = s0; SpanAccess.At(y, yStart + 1) = s1; SpanAccess.At(y, yStart + 2) = s2; SpanAccess.At(y, yStart + 3) = s3;
        SpanAccess.At(y, yStart + 4) = s4; SpanAccess.At(y, yStart + 5) = s5; SpanAccess.At(y, yStart + 6) = s6; SpanAccess.At(y, yStart + 7) = s7;
    }

    // ---- GemmTN: C += Aᵀ · B, the weight gradient ------------------------------------------------------------------

    /// <summary>C [Rows, Cols] += Σ_i A[i, :]ᵀ B[i, :] for i &lt; <paramref name="n"/> (every row of C); see the overload with a row range.</summary>
    public static void GemmTN<TShape>(ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int bStride, int n, Span<float> c, Span<float> sums, Span<float> scratch)
        where TShape : struct, IMatrixShape
        => GemmTN<TShape>(a, aStride, b, bStride, n, c, sums, scratch, 0, default(TShape).Rows);

    /// <summary>
    /// Rows [<paramref name="rowFirst"/>, <paramref name="rowEnd"/>) of C [Rows, Cols] (row-major) += Σ_i A[i, :]ᵀ B[i, :]
    /// for i &lt; <paramref name="n"/>, rows of A [n, Rows] and B [n, Cols] at the given strides: the weight gradient
    /// dL/dW += dL/dYᵀ · X. When <paramref name="sums"/> is not empty, the same rows of sums [Rows] += Σ_i A[i, :] (a bias
    /// gradient, summed while A is packed rather than in a pass of its own, row after row as <see cref="SumRowsAdd"/>
    /// adds them). Each row of C is computed exactly as by the whole product, so threads that take different rows
    /// (<paramref name="rowFirst"/> a multiple of 4) get the same bits as one thread.
    /// </summary>
    /// <remarks>
    /// Over blocks of 128 rows of A and B: the block is first packed into <paramref name="scratch"/>
    /// (<see cref="GemmTNScratchSize"/> floats) — A by quads of its columns ([Rows / 4][block][4], so a tile's four
    /// broadcasts per i are one 16-byte run) and B in panels of 64 columns ([Cols / 64][block][64]) — then register tiles
    /// of four rows of C by a panel of up to four vectors accumulate over the block. Read in place, the block's rows sit
    /// a row stride apart, all in the same L1 sets (measured at a third of the speed). Rows of C past the last quad and
    /// columns that do not fill a vector read A and B in place.
    /// </remarks>
    [MethodImpl(HotPath)]
    public static void GemmTN<TShape>(ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int bStride, int n, Span<float> c, Span<float> sums, Span<float> scratch, int rowFirst, int rowEnd)
        where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        if (rows < 0 || cols < 0) ThrowShape(typeof(TShape), rows, cols, default(TShape).PanelRows);
#if NET8_0_OR_GREATER
        // The vector paths pack each block of A and B into the scratch (its size in 64 bits: no shape can wrap it).
        bool packs = Vector128.IsHardwareAccelerated && cols >= 4;
        if (packs && scratch.Length < GemmTNScratchLength(rows, cols)) ThrowLength(nameof(scratch), scratch.Length, GemmTNScratchLength(rows, cols), "");
#endif
        CheckRows(a.Length, n, aStride, rows, nameof(a), nameof(aStride));
        CheckRows(b.Length, n, bStride, cols, nameof(b), nameof(bStride));
        if (c.Length < (long)rows * cols) ThrowLength(nameof(c), c.Length, (long)rows * cols, "");
        if (!sums.IsEmpty && sums.Length < rows) ThrowLength(nameof(sums), sums.Length, rows, " (or none)");
        if ((uint)rowFirst > (uint)rows || rowFirst % 4 != 0) ThrowRange(nameof(rowFirst), rowFirst, "a multiple of 4 in [0, Rows]");
        if (rowEnd < rowFirst || rowEnd > rows) ThrowRange(nameof(rowEnd), rowEnd, "a value in [rowFirst, Rows]");
        nuint @as = (nuint)aStride, bs = (nuint)bStride, count = (nuint)n, rFirst = (nuint)rowFirst, rEnd = (nuint)rowEnd;
#if NET8_0_OR_GREATER
        if (packs)
        {
            if (Vector512.IsHardwareAccelerated && cols >= 16) GemmTN<TShape, Vector512<float>, Ops512>(a, @as, b, bs, count, c, sums, scratch, rFirst, rEnd);
            else if (Vector256.IsHardwareAccelerated && cols >= 8) GemmTN<TShape, Vector256<float>, Ops256>(a, @as, b, bs, count, c, sums, scratch, rFirst, rEnd);
            else GemmTN<TShape, Vector128<float>, Ops128>(a, @as, b, bs, count, c, sums, scratch, rFirst, rEnd);
            return;
        }
#endif
        if (!sums.IsEmpty)
        {
            for (nuint i = 0; i < count; i++)
            {
                for (nuint r = rFirst; r < rEnd; r++) SpanAccess.At(sums, r) += SpanAccess.Get(a, i * @as + r);
            }
        }
        GemmTNScalarColumns<TShape>(a, @as, b, bs, count, c, rFirst, rEnd, 0);
    }

#if NET8_0_OR_GREATER
    [MethodImpl(HotPath)]
    internal static void GemmTN<TShape, TV, TOps>(ReadOnlySpan<float> a, nuint @as, ReadOnlySpan<float> b, nuint bs, nuint count, Span<float> c, Span<float> sums, Span<float> scratch, nuint rFirst, nuint rEnd)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        TOps v = default;
        nuint rows = (nuint)default(TShape).Rows, cols = (nuint)default(TShape).Cols, w = (nuint)v.Count;
        nuint panel = (nuint)PanelVectors<TOps>() * w;
        nuint fullPanels = cols / panel * panel;
        int remaining = (int)((cols - fullPanels) / w);
        nuint vectorCols = fullPanels + (nuint)remaining * w;
        nuint blockedRows = rows - rows % 4, quads = rows / 4;
        nuint tileEnd = rEnd < blockedRows ? rEnd : blockedRows; // rows of C in whole tiles of four
        bool summing = !sums.IsEmpty;
        Span<float> aPack = scratch, bPack = SpanAccess.From(scratch, quads * 4 * GemmTNRowBlock);
        for (nuint i0 = 0; i0 < count; i0 += GemmTNRowBlock)
        {
            nuint block = count - i0 < GemmTNRowBlock ? count - i0 : GemmTNRowBlock;
            for (nuint ii = 0; ii < block; ii++)
            {
                ReadOnlySpan<float> aRow = SpanAccess.From(a, (i0 + ii) * @as);
                for (nuint q = rFirst >> 2; q < tileEnd >> 2; q++) SpanAccess.Store128(SpanAccess.Load128(aRow, q * 4), aPack, q * (4 * GemmTNRowBlock) + ii * 4);
                if (summing && blockedRows < rows)
                {
                    // Rows of C past the last quad.
                    for (nuint r = rFirst > blockedRows ? rFirst : blockedRows; r < rEnd; r++) SpanAccess.At(sums, r) += SpanAccess.Get(aRow, r);
                }
                ReadOnlySpan<float> bRow = SpanAccess.From(b, (i0 + ii) * bs);
                for (nuint col = 0; col < vectorCols; col += w) v.Store(v.Load(bRow, col), bPack, (col >> 6) * (GemmTNRowBlock * PanelWidth) + ii * PanelWidth + (col & 63));
            }
            if (summing && quads > 0) GemmTNQuadSums(aPack, sums, rFirst >> 2, tileEnd >> 2, block);
            for (nuint col = 0; col < fullPanels; col += panel) GemmTNRows<TShape, TV, TOps>(PanelVectors<TOps>(), a, @as, aPack, bPack, c, i0, block, col, rFirst, rEnd, tileEnd);
            if (remaining > 0) GemmTNRows<TShape, TV, TOps>(remaining, a, @as, aPack, bPack, c, i0, block, fullPanels, rFirst, rEnd, tileEnd);
        }
        if (vectorCols < cols) GemmTNScalarColumns<TShape>(a, @as, b, bs, count, c, rFirst, rEnd, vectorCols);
    }

    /// <summary>
    /// sums[4q..4q+3] += the block's rows of A's quads [q, qEnd), read back from the packed quads (contiguous, in cache),
    /// row after row for each element; four quads at a time so four independent chains of adds overlap.
    /// </summary>
    private static void GemmTNQuadSums(Span<float> aPack, Span<float> sums, nuint q, nuint qEnd, nuint block)
    {
        const nuint stride = 4 * GemmTNRowBlock;
        for (; q + 4 <= qEnd; q += 4)
        {
            var t0 = SpanAccess.Load128(sums, q * 4);
            var t1 = SpanAccess.Load128(sums, (q + 1) * 4);
            var t2 = SpanAccess.Load128(sums, (q + 2) * 4);
            var t3 = SpanAccess.Load128(sums, (q + 3) * 4);
            ReadOnlySpan<float> p = SpanAccess.From(aPack, q * stride);
            for (nuint ii = 0; ii < block; ii++)
            {
                t0 += SpanAccess.Load128(p, ii * 4);
                t1 += SpanAccess.Load128(p, stride + ii * 4);
                t2 += SpanAccess.Load128(p, 2 * stride + ii * 4);
                t3 += SpanAccess.Load128(p, 3 * stride + ii * 4);
            }
            SpanAccess.Store128(t0, sums, q * 4);
            SpanAccess.Store128(t1, sums, (q + 1) * 4);
            SpanAccess.Store128(t2, sums, (q + 2) * 4);
            SpanAccess.Store128(t3, sums, (q + 3) * 4);
        }
        for (; q < qEnd; q++)
        {
            var t = SpanAccess.Load128(sums, q * 4);
            for (nuint ii = 0; ii < block; ii++) t += SpanAccess.Load128(aPack, q * stride + ii * 4);
            SpanAccess.Store128(t, sums, q * 4);
        }
    }

    /// <summary>Every row of C in [rFirst, rEnd) over one column panel of <paramref name="vectors"/> vectors: tiles of four rows from the packed quads, then single rows past the last quad.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemmTNRows<TShape, TV, TOps>(int vectors, ReadOnlySpan<float> a, nuint @as, ReadOnlySpan<float> aPack, ReadOnlySpan<float> bPack, Span<float> c, nuint i0, nuint block, nuint col, nuint rFirst, nuint rEnd, nuint tileEnd)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        nuint rows = (nuint)default(TShape).Rows, cols = (nuint)default(TShape).Cols, blocked = rows - rows % 4;
        switch (vectors)
        {
            case 1: for (nuint r = rFirst; r < tileEnd; r += 4) GemmTNTile<TV, TOps, N4, N1>(aPack, (r >> 2) * (4 * GemmTNRowBlock), 1, bPack, c, cols, block, r, col); break;
            case 2: for (nuint r = rFirst; r < tileEnd; r += 4) GemmTNTile<TV, TOps, N4, N2>(aPack, (r >> 2) * (4 * GemmTNRowBlock), 1, bPack, c, cols, block, r, col); break;
            case 3: for (nuint r = rFirst; r < tileEnd; r += 4) GemmTNTile<TV, TOps, N4, N3>(aPack, (r >> 2) * (4 * GemmTNRowBlock), 1, bPack, c, cols, block, r, col); break;
            default: for (nuint r = rFirst; r < tileEnd; r += 4) GemmTNTile<TV, TOps, N4, N4>(aPack, (r >> 2) * (4 * GemmTNRowBlock), 1, bPack, c, cols, block, r, col); break;
        }
        if (blocked < rows)
        {
            for (nuint r = rFirst > blocked ? rFirst : blocked; r < rEnd; r++)
            {
                switch (vectors)
                {
                    case 1: GemmTNTile<TV, TOps, N1, N1>(a, i0 * @as + r, @as, bPack, c, cols, block, r, col); break;
                    case 2: GemmTNTile<TV, TOps, N1, N2>(a, i0 * @as + r, @as, bPack, c, cols, block, r, col); break;
                    case 3: GemmTNTile<TV, TOps, N1, N3>(a, i0 * @as + r, @as, bPack, c, cols, block, r, col); break;
                    default: GemmTNTile<TV, TOps, N1, N4>(a, i0 * @as + r, @as, bPack, c, cols, block, r, col); break;
                }
            }
        }
    }

    /// <summary>
    /// One tile of C: <typeparamref name="TRows"/> rows from row <paramref name="r"/> by <typeparamref name="TVectors"/>
    /// vectors from column <paramref name="col"/>, accumulated over the block's rows ii: the broadcasts come from
    /// <paramref name="aSource"/> at <paramref name="aStart"/> + ii · <paramref name="aStep"/> (the packed quad, step 4,
    /// or A in place, step its row stride), the vectors from B's packed panel. Shared by every shape, as GemmTile: C's
    /// row stride <paramref name="cols"/> is an argument, used only outside the loop.
    /// </summary>
    [MethodImpl(HotPath)]
    private static void GemmTNTile<TV, TOps, TRows, TVectors>(ReadOnlySpan<float> aSource, nuint aStart, nuint aStep, ReadOnlySpan<float> bPack, Span<float> c, nuint cols, nuint block, nuint r, nuint col)
        where TV : struct where TOps : struct, IVectorOps<TV> where TRows : struct, ICount where TVectors : struct, ICount
    {
        TOps v = default;
        nuint w = (nuint)v.Count;
        if (Unsafe.SizeOf<TRows>() == 4) aStep = 4; // the packed quad: a constant step
        Span<float> c0 = SpanAccess.From(c, r * cols + col), c1 = Unsafe.SizeOf<TRows>() > 1 ? SpanAccess.From(c0, cols) : default, c2 = Unsafe.SizeOf<TRows>() > 2 ? SpanAccess.From(c1, cols) : default, c3 = Unsafe.SizeOf<TRows>() > 3 ? SpanAccess.From(c2, cols) : default;
        TV a00 = v.Load(c0, 0), a01 = Unsafe.SizeOf<TVectors>() > 1 ? v.Load(c0, w) : default, a02 = Unsafe.SizeOf<TVectors>() > 2 ? v.Load(c0, 2 * w) : default, a03 = Unsafe.SizeOf<TVectors>() > 3 ? v.Load(c0, 3 * w) : default;
        TV a10 = default, a11 = default, a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default;
        TV a30 = default, a31 = default, a32 = default, a33 = default;
        if (Unsafe.SizeOf<TRows>() > 1) { a10 = v.Load(c1, 0); if (Unsafe.SizeOf<TVectors>() > 1) a11 = v.Load(c1, w); if (Unsafe.SizeOf<TVectors>() > 2) a12 = v.Load(c1, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a13 = v.Load(c1, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 2) { a20 = v.Load(c2, 0); if (Unsafe.SizeOf<TVectors>() > 1) a21 = v.Load(c2, w); if (Unsafe.SizeOf<TVectors>() > 2) a22 = v.Load(c2, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a23 = v.Load(c2, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 3) { a30 = v.Load(c3, 0); if (Unsafe.SizeOf<TVectors>() > 1) a31 = v.Load(c3, w); if (Unsafe.SizeOf<TVectors>() > 2) a32 = v.Load(c3, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) a33 = v.Load(c3, 3 * w); }
        ReadOnlySpan<float> bPanel = SpanAccess.From(bPack, (col >> 6) * (GemmTNRowBlock * PanelWidth) + (col & 63));
        ReadOnlySpan<float> aBase = SpanAccess.From(aSource, aStart);
        for (nuint ii = 0; ii < block; ii++)
        {
            ReadOnlySpan<float> bRow = SpanAccess.From(bPanel, ii * PanelWidth);
            ReadOnlySpan<float> aRow = SpanAccess.From(aBase, ii * aStep);
            TV m0 = v.Load(bRow, 0), m1 = Unsafe.SizeOf<TVectors>() > 1 ? v.Load(bRow, w) : default, m2 = Unsafe.SizeOf<TVectors>() > 2 ? v.Load(bRow, 2 * w) : default, m3 = Unsafe.SizeOf<TVectors>() > 3 ? v.Load(bRow, 3 * w) : default;
            TV s0 = v.Create(SpanAccess.Get(aRow, 0));
            a00 = v.MultiplyAdd(m0, s0, a00); if (Unsafe.SizeOf<TVectors>() > 1) a01 = v.MultiplyAdd(m1, s0, a01); if (Unsafe.SizeOf<TVectors>() > 2) a02 = v.MultiplyAdd(m2, s0, a02); if (Unsafe.SizeOf<TVectors>() > 3) a03 = v.MultiplyAdd(m3, s0, a03);
            if (Unsafe.SizeOf<TRows>() > 1) { TV s1 = v.Create(SpanAccess.Get(aRow, 1)); a10 = v.MultiplyAdd(m0, s1, a10); if (Unsafe.SizeOf<TVectors>() > 1) a11 = v.MultiplyAdd(m1, s1, a11); if (Unsafe.SizeOf<TVectors>() > 2) a12 = v.MultiplyAdd(m2, s1, a12); if (Unsafe.SizeOf<TVectors>() > 3) a13 = v.MultiplyAdd(m3, s1, a13); }
            if (Unsafe.SizeOf<TRows>() > 2) { TV s2 = v.Create(SpanAccess.Get(aRow, 2)); a20 = v.MultiplyAdd(m0, s2, a20); if (Unsafe.SizeOf<TVectors>() > 1) a21 = v.MultiplyAdd(m1, s2, a21); if (Unsafe.SizeOf<TVectors>() > 2) a22 = v.MultiplyAdd(m2, s2, a22); if (Unsafe.SizeOf<TVectors>() > 3) a23 = v.MultiplyAdd(m3, s2, a23); }
            if (Unsafe.SizeOf<TRows>() > 3) { TV s3 = v.Create(SpanAccess.Get(aRow, 3)); a30 = v.MultiplyAdd(m0, s3, a30); if (Unsafe.SizeOf<TVectors>() > 1) a31 = v.MultiplyAdd(m1, s3, a31); if (Unsafe.SizeOf<TVectors>() > 2) a32 = v.MultiplyAdd(m2, s3, a32); if (Unsafe.SizeOf<TVectors>() > 3) a33 = v.MultiplyAdd(m3, s3, a33); }
        }
        v.Store(a00, c0, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a01, c0, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a02, c0, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a03, c0, 3 * w);
        if (Unsafe.SizeOf<TRows>() > 1) { v.Store(a10, c1, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a11, c1, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a12, c1, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a13, c1, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 2) { v.Store(a20, c2, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a21, c2, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a22, c2, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a23, c2, 3 * w); }
        if (Unsafe.SizeOf<TRows>() > 3) { v.Store(a30, c3, 0); if (Unsafe.SizeOf<TVectors>() > 1) v.Store(a31, c3, w); if (Unsafe.SizeOf<TVectors>() > 2) v.Store(a32, c3, 2 * w); if (Unsafe.SizeOf<TVectors>() > 3) v.Store(a33, c3, 3 * w); }
    }
#endif

    /// <summary>
    /// Columns from <paramref name="start"/> on of rows [rFirst, rEnd) of C, in scalar code reading A and B in place:
    /// blocks of eight columns of a row of C with eight accumulators, each summing i in ascending order as the
    /// one-column loop does (the same bits).
    /// </summary>
    internal static void GemmTNScalarColumns<TShape>(ReadOnlySpan<float> a, nuint @as, ReadOnlySpan<float> b, nuint bs, nuint count, Span<float> c, nuint rFirst, nuint rEnd, nuint start)
        where TShape : struct, IMatrixShape
    {
        nuint cols = (nuint)default(TShape).Cols;
        for (nuint r = rFirst; r < rEnd; r++)
        {
            nuint col = start;
            for (; col + 8 <= cols; col += 8)
            {
                nuint o = r * cols + col;
                float s0 = SpanAccess.At(c, o), s1 = SpanAccess.At(c, o + 1), s2 = SpanAccess.At(c, o + 2), s3 = SpanAccess.At(c, o + 3);
                float s4 = SpanAccess.At(c, o + 4), s5 = SpanAccess.At(c, o + 5), s6 = SpanAccess.At(c, o + 6), s7 = SpanAccess.At(c, o + 7);
                for (nuint i = 0, ai = r, bi = col; i < count; i++, ai += @as, bi += bs)
                {
                    float ar = SpanAccess.Get(a, ai);
                    s0 += ar * SpanAccess.Get(b, bi);
                    s1 += ar * SpanAccess.Get(b, bi + 1);
                    s2 += ar * SpanAccess.Get(b, bi + 2);
                    s3 += ar * SpanAccess.Get(b, bi + 3);
                    s4 += ar * SpanAccess.Get(b, bi + 4);
                    s5 += ar * SpanAccess.Get(b, bi + 5);
                    s6 += ar * SpanAccess.Get(b, bi + 6);
                    s7 += ar * SpanAccess.Get(b, bi + 7);
                }
                SpanAccess.At(c, o) = s0; SpanAccess.At(c, o + 1) = s1; SpanAccess.At(c, o + 2) = s2; SpanAccess.At(c, o + 3) = s3;
                SpanAccess.At(c, o + 4) = s4; SpanAccess.At(c, o + 5) = s5; SpanAccess.At(c, o + 6) = s6; SpanAccess.At(c, o + 7) = s7;
            }
            for (; col < cols; col++)
            {
                float sum = SpanAccess.At(c, r * cols + col);
                for (nuint i = 0; i < count; i++) sum += SpanAccess.Get(a, i * @as + r) * SpanAccess.Get(b, i * bs + col);
                SpanAccess.At(c, r * cols + col) = sum;
            }
        }
    }

    // ---- MatVecT: y += x · Wᵀ for one stream ------------------------------------------------------------------------

    /// <summary>
    /// y[c] += Σ_k x[k] Wᵀ[k, c] for the transposed weight Wᵀ [Rows, Cols] in the panel layout of <see cref="PackPanels"/>
    /// (one stream's step). The output is split into blocks of up to 16 (AVX-512) or 8 vectors kept in registers while k
    /// runs, then narrower vectors and scalar columns; no horizontal sums. <paramref name="reverse"/> runs the column
    /// blocks last to first (the same results).
    /// </summary>
    [MethodImpl(HotPath)]
    public static void MatVecT<TShape>(ReadOnlySpan<float> wt, ReadOnlySpan<float> x, Span<float> y, bool reverse)
        where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        CheckPanels<TShape>(wt.Length, nameof(wt));
        if (x.Length < rows) ThrowLength(nameof(x), x.Length, rows, "");
        if (y.Length < cols) ThrowLength(nameof(y), y.Length, cols, "");
#if NET8_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated && cols >= 16) MatVecT<TShape, Vector512<float>, Ops512>(wt, x, y, reverse);
        else if (Vector256.IsHardwareAccelerated && cols >= 8) MatVecT<TShape, Vector256<float>, Ops256>(wt, x, y, reverse);
        else if (Vector128.IsHardwareAccelerated && cols >= 4) MatVecT<TShape, Vector128<float>, Ops128>(wt, x, y, reverse);
        else
#endif
            MatVecTScalar<TShape>(wt, x, y, 0);
    }

#if NET8_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the entry, which is compiled fully optimized
    internal static void MatVecT<TShape, TV, TOps>(ReadOnlySpan<float> wt, ReadOnlySpan<float> x, Span<float> y, bool reverse)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        nuint cols = (nuint)default(TShape).Cols, w = (nuint)default(TOps).Count;
        int full = (int)(cols / w);
        RowBlocks<TShape, TV, TOps>(full, wt, x, y, 0, y, reverse);
        nuint offset = (nuint)full * w;
        if (w > 8 && cols - offset >= 8)
        {
            RowBlock<TShape, Vector256<float>, Ops256, N1>(wt, offset, x, y, offset, y, offset);
            offset += 8;
        }
        if (w > 4 && cols - offset >= 4)
        {
            RowBlock<TShape, Vector128<float>, Ops128, N1>(wt, offset, x, y, offset, y, offset);
            offset += 4;
        }
        if (offset < cols) MatVecTScalar<TShape>(wt, x, y, offset);
    }
#endif

    /// <summary>
    /// Columns from <paramref name="start"/> on of <see cref="MatVecT{TShape}"/> in scalar code (a tail, or the portable
    /// path): the scalar columns of <see cref="GemmP{TShape}"/> for one row, accumulating into y.
    /// </summary>
    internal static void MatVecTScalar<TShape>(ReadOnlySpan<float> wt, ReadOnlySpan<float> x, Span<float> y, nuint start)
        where TShape : struct, IMatrixShape
        => GemmPScalarColumns<TShape>(wt, default, x, 0, 1, y, 0, start);

    // ---- MatVecTHalf: the same from bfloat16 weights ----------------------------------------------------------------

    /// <summary>
    /// y[c] += Σ_k x[k] Wᵀ[k, c] as <see cref="MatVecT{TShape}"/>, reading Wᵀ's columns in whole chunks of 32 from its
    /// bfloat16 copy <paramref name="wh"/> [Rows, Cols / 32 · 32] (the interleaved layout of
    /// <see cref="ToBFloat16Interleaved"/>: a 32-bit lane holds column j of a chunk in its low half and column 16 + j in
    /// its high half, so one load of 16 lanes gives two vectors of 16 columns with one shift) and the columns past the
    /// last chunk from the float panels <paramref name="wt"/>. Products and sums are float.
    /// </summary>
    [MethodImpl(HotPath)]
    public static void MatVecTHalf<TShape>(ReadOnlySpan<ushort> wh, ReadOnlySpan<float> wt, ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols;
        CheckPanels<TShape>(wt.Length, nameof(wt));
        long halves = (long)rows * (cols / 32 * 32);
        if (wh.Length < halves) ThrowLength(nameof(wh), wh.Length, halves, " bfloat16 weights");
        if (x.Length < rows) ThrowLength(nameof(x), x.Length, rows, "");
        if (y.Length < cols) ThrowLength(nameof(y), y.Length, cols, "");
        nuint chunked = (nuint)(cols / 32 * 32);
        if (chunked > 0)
        {
#if NET8_0_OR_GREATER
            if (Vector512.IsHardwareAccelerated) HalfBlocks<TShape, Vector512<float>, Ops512>(wh, x, y);
            else if (Vector256.IsHardwareAccelerated) HalfBlocks<TShape, Vector256<float>, Ops256>(wh, x, y);
            else if (Vector128.IsHardwareAccelerated) HalfBlocks<TShape, Vector128<float>, Ops128>(wh, x, y);
            else
#endif
                MatVecTHalfScalar<TShape>(wh, x, y);
        }
        if (chunked < (nuint)cols) MatVecTScalar<TShape>(wt, x, y, chunked);
    }

#if NET8_0_OR_GREATER
    /// <summary>The whole chunks of 32 columns, in register blocks: 8 chunks of 2 x 16 accumulators (AVX-512), 2 chunks of 2 x 2 x 8 (AVX2), 1 chunk of 2 x 4 x 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the entry, which is compiled fully optimized
    internal static void HalfBlocks<TShape, TV, TOps>(ReadOnlySpan<ushort> wh, ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        int chunks = default(TShape).Cols / 32, loads = 16 / default(TOps).Count;
        int perBlock = Math.Max(1, RowBlockVectors<TOps>() / (2 * loads));
        int fullBlocks = chunks / perBlock, rest = chunks % perBlock;
        nuint blockCols = (nuint)(perBlock * 32), end = (nuint)fullBlocks * blockCols;
        for (nuint start = 0; start < end; start += blockCols) HalfBlock<TShape, TV, TOps>(perBlock * loads, wh, x, y, start);
        if (rest > 0) HalfBlock<TShape, TV, TOps>(rest * loads, wh, x, y, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void HalfBlock<TShape, TV, TOps>(int groups, ReadOnlySpan<ushort> wh, ReadOnlySpan<float> x, Span<float> y, nuint start)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV>
    {
        switch (groups)
        {
            case 1: HalfBlock<TShape, TV, TOps, N1>(wh, x, y, start); break;
            case 2: HalfBlock<TShape, TV, TOps, N2>(wh, x, y, start); break;
            case 3: HalfBlock<TShape, TV, TOps, N3>(wh, x, y, start); break;
            case 4: HalfBlock<TShape, TV, TOps, N4>(wh, x, y, start); break;
            case 5: HalfBlock<TShape, TV, TOps, N5>(wh, x, y, start); break;
            case 6: HalfBlock<TShape, TV, TOps, N6>(wh, x, y, start); break;
            case 7: HalfBlock<TShape, TV, TOps, N7>(wh, x, y, start); break;
            default: HalfBlock<TShape, TV, TOps, N8>(wh, x, y, start); break;
        }
    }

    /// <summary>
    /// One register block from column <paramref name="start"/>: <typeparamref name="TGroups"/> groups of W lanes. Group g
    /// reads the uint lanes g·W.. of the block's chunks (16 lanes per chunk of 32 columns) and feeds two accumulators:
    /// l{g} for the low halves, columns 32·(g / L) + (g % L)·W.., and h{g} for the high halves, 16 columns further
    /// (L = 16 / W loads per chunk).
    /// </summary>
    [MethodImpl(HotPath)]
    private static void HalfBlock<TShape, TV, TOps, TGroups>(ReadOnlySpan<ushort> wh, ReadOnlySpan<float> x, Span<float> y, nuint start)
        where TShape : struct, IMatrixShape where TV : struct where TOps : struct, IVectorOps<TV> where TGroups : struct, ICount
    {
        TOps v = default;
        nuint rows = (nuint)default(TShape).Rows, chunked = (nuint)(default(TShape).Cols / 32 * 32), w = (nuint)v.Count, loads = 16 / w;
        Span<float> d = SpanAccess.From(y, start);
        nuint c0 = LowColumn(0, w, loads), c1 = LowColumn(1, w, loads), c2 = LowColumn(2, w, loads), c3 = LowColumn(3, w, loads);
        nuint c4 = LowColumn(4, w, loads), c5 = LowColumn(5, w, loads), c6 = LowColumn(6, w, loads), c7 = LowColumn(7, w, loads);
        TV l0 = v.Load(d, c0), h0 = v.Load(d, c0 + 16);
        TV l1 = Unsafe.SizeOf<TGroups>() > 1 ? v.Load(d, c1) : default, h1 = Unsafe.SizeOf<TGroups>() > 1 ? v.Load(d, c1 + 16) : default;
        TV l2 = Unsafe.SizeOf<TGroups>() > 2 ? v.Load(d, c2) : default, h2 = Unsafe.SizeOf<TGroups>() > 2 ? v.Load(d, c2 + 16) : default;
        TV l3 = Unsafe.SizeOf<TGroups>() > 3 ? v.Load(d, c3) : default, h3 = Unsafe.SizeOf<TGroups>() > 3 ? v.Load(d, c3 + 16) : default;
        TV l4 = Unsafe.SizeOf<TGroups>() > 4 ? v.Load(d, c4) : default, h4 = Unsafe.SizeOf<TGroups>() > 4 ? v.Load(d, c4 + 16) : default;
        TV l5 = Unsafe.SizeOf<TGroups>() > 5 ? v.Load(d, c5) : default, h5 = Unsafe.SizeOf<TGroups>() > 5 ? v.Load(d, c5 + 16) : default;
        TV l6 = Unsafe.SizeOf<TGroups>() > 6 ? v.Load(d, c6) : default, h6 = Unsafe.SizeOf<TGroups>() > 6 ? v.Load(d, c6 + 16) : default;
        TV l7 = Unsafe.SizeOf<TGroups>() > 7 ? v.Load(d, c7) : default, h7 = Unsafe.SizeOf<TGroups>() > 7 ? v.Load(d, c7 + 16) : default;
        for (nuint k = 0; k < rows; k++)
        {
            TV xk = v.Create(SpanAccess.Get(x, k));
            ReadOnlySpan<ushort> row = SpanAccess.From(wh, k * chunked + start);
            TV lo, hi;
            v.LoadBFloat16Pairs(row, 0, out lo, out hi); l0 = v.MultiplyAdd(lo, xk, l0); h0 = v.MultiplyAdd(hi, xk, h0);
            if (Unsafe.SizeOf<TGroups>() > 1) { v.LoadBFloat16Pairs(row, 2 * w, out lo, out hi); l1 = v.MultiplyAdd(lo, xk, l1); h1 = v.MultiplyAdd(hi, xk, h1); }
            if (Unsafe.SizeOf<TGroups>() > 2) { v.LoadBFloat16Pairs(row, 4 * w, out lo, out hi); l2 = v.MultiplyAdd(lo, xk, l2); h2 = v.MultiplyAdd(hi, xk, h2); }
            if (Unsafe.SizeOf<TGroups>() > 3) { v.LoadBFloat16Pairs(row, 6 * w, out lo, out hi); l3 = v.MultiplyAdd(lo, xk, l3); h3 = v.MultiplyAdd(hi, xk, h3); }
            if (Unsafe.SizeOf<TGroups>() > 4) { v.LoadBFloat16Pairs(row, 8 * w, out lo, out hi); l4 = v.MultiplyAdd(lo, xk, l4); h4 = v.MultiplyAdd(hi, xk, h4); }
            if (Unsafe.SizeOf<TGroups>() > 5) { v.LoadBFloat16Pairs(row, 10 * w, out lo, out hi); l5 = v.MultiplyAdd(lo, xk, l5); h5 = v.MultiplyAdd(hi, xk, h5); }
            if (Unsafe.SizeOf<TGroups>() > 6) { v.LoadBFloat16Pairs(row, 12 * w, out lo, out hi); l6 = v.MultiplyAdd(lo, xk, l6); h6 = v.MultiplyAdd(hi, xk, h6); }
            if (Unsafe.SizeOf<TGroups>() > 7) { v.LoadBFloat16Pairs(row, 14 * w, out lo, out hi); l7 = v.MultiplyAdd(lo, xk, l7); h7 = v.MultiplyAdd(hi, xk, h7); }
        }
        v.Store(l0, d, c0); v.Store(h0, d, c0 + 16);
        if (Unsafe.SizeOf<TGroups>() > 1) { v.Store(l1, d, c1); v.Store(h1, d, c1 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 2) { v.Store(l2, d, c2); v.Store(h2, d, c2 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 3) { v.Store(l3, d, c3); v.Store(h3, d, c3 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 4) { v.Store(l4, d, c4); v.Store(h4, d, c4 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 5) { v.Store(l5, d, c5); v.Store(h5, d, c5 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 6) { v.Store(l6, d, c6); v.Store(h6, d, c6 + 16); }
        if (Unsafe.SizeOf<TGroups>() > 7) { v.Store(l7, d, c7); v.Store(h7, d, c7 + 16); }
    }

    /// <summary>First column of group <paramref name="g"/>'s low halves within its block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint LowColumn(nuint g, nuint w, nuint loads) => 32 * (g / loads) + g % loads * w;
#endif

    /// <summary>
    /// The whole chunks of 32 columns of <see cref="MatVecTHalf{TShape}"/> in scalar code: four lanes of a chunk at a
    /// time (columns j..j+3 from the lanes' low halves shifted up, 16+j..16+j+3 from the whole lanes read as floats, as
    /// the vector paths read them), eight accumulators, each summing k in ascending order.
    /// </summary>
    internal static void MatVecTHalfScalar<TShape>(ReadOnlySpan<ushort> wh, ReadOnlySpan<float> x, Span<float> y)
        where TShape : struct, IMatrixShape
    {
        nuint rows = (nuint)default(TShape).Rows, chunked = (nuint)(default(TShape).Cols / 32 * 32);
        for (nuint c0 = 0; c0 < chunked; c0 += 32)
        {
            for (nuint j = 0; j < 16; j += 4)
            {
                nuint lo = c0 + j, hi = c0 + 16 + j;
                float l0 = SpanAccess.At(y, lo), l1 = SpanAccess.At(y, lo + 1), l2 = SpanAccess.At(y, lo + 2), l3 = SpanAccess.At(y, lo + 3);
                float h0 = SpanAccess.At(y, hi), h1 = SpanAccess.At(y, hi + 1), h2 = SpanAccess.At(y, hi + 2), h3 = SpanAccess.At(y, hi + 3);
                for (nuint k = 0, o = c0 + 2 * j; k < rows; k++, o += chunked)
                {
                    float xk = SpanAccess.Get(x, k);
                    uint p0 = SpanAccess.Pair(wh, o), p1 = SpanAccess.Pair(wh, o + 2), p2 = SpanAccess.Pair(wh, o + 4), p3 = SpanAccess.Pair(wh, o + 6);
                    l0 += xk * BitConverter.Int32BitsToSingle((int)(p0 << 16));
                    h0 += xk * BitConverter.Int32BitsToSingle((int)p0);
                    l1 += xk * BitConverter.Int32BitsToSingle((int)(p1 << 16));
                    h1 += xk * BitConverter.Int32BitsToSingle((int)p1);
                    l2 += xk * BitConverter.Int32BitsToSingle((int)(p2 << 16));
                    h2 += xk * BitConverter.Int32BitsToSingle((int)p2);
                    l3 += xk * BitConverter.Int32BitsToSingle((int)(p3 << 16));
                    h3 += xk * BitConverter.Int32BitsToSingle((int)p3);
                }
                SpanAccess.At(y, lo) = l0; SpanAccess.At(y, lo + 1) = l1; SpanAccess.At(y, lo + 2) = l2; SpanAccess.At(y, lo + 3) = l3;
                SpanAccess.At(y, hi) = h0; SpanAccess.At(y, hi + 1) = h1; SpanAccess.At(y, hi + 2) = h2; SpanAccess.At(y, hi + 3) = h3;
            }
        }
    }

    // ---- checks: once per call, on lengths the JIT mostly knows -----------------------------------------------------

    /// <summary>Throws unless the shape is valid and <paramref name="length"/> covers its panels: element (Rows - 1, Cols - 1) is the last one read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckPanels<TShape>(int length, string name) where TShape : struct, IMatrixShape
    {
        int rows = default(TShape).Rows, cols = default(TShape).Cols, panelRows = default(TShape).PanelRows;
        if (rows < 0 || cols < 0 || panelRows < rows) ThrowShape(typeof(TShape), rows, cols, panelRows);
        long needed = rows == 0 || cols == 0 ? 0 : ((long)((cols - 1) >> 6) * panelRows + (rows - 1)) * PanelWidth + ((cols - 1) & 63) + 1;
        if (length < needed) ThrowPanels(name, length, needed, rows, cols, panelRows);
    }

    /// <summary>Throws unless <paramref name="n"/> rows of <paramref name="width"/> floats, <paramref name="stride"/> apart, fit in <paramref name="length"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckRows(int length, int n, int stride, int width, string name, string strideName)
    {
        if (n < 0) ThrowRange(nameof(n), n, "a row count of at least 0");
        if (n == 0) return;
        if (stride < 0) ThrowRange(strideName, stride, "a row stride of at least 0");
        long needed = (long)(n - 1) * stride + width;
        if (length < needed) ThrowRows(name, length, n, width, stride, needed);
    }

    // The throws live in methods of their own, never inlined: a kernel's entry stays a few compares, with no string
    // formatting code (and the stack frame it needs) on the path every call takes.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShape(Type shape, int rows, int cols, int panelRows)
        => throw new ArgumentException($"{shape.Name} is not a valid matrix shape: Rows {rows}, Cols {cols}, PanelRows {panelRows} (need Rows, Cols >= 0 and PanelRows >= Rows).");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPanels(string name, int length, long needed, int rows, int cols, int panelRows)
        => throw new ArgumentException($"{name} has {length} floats; the panels of a [{rows}, {cols}] matrix in panels of {panelRows} rows need {needed}.", name);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(string name, int length, long needed, string what)
        => throw new ArgumentException($"{name} has {length} elements; expected at least {needed}{what}.", name);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRows(string name, int length, int n, int width, int stride, long needed)
        => throw new ArgumentException($"{name} has {length} floats; {n} rows of {width} at a stride of {stride} need {needed}.", name);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRange(string name, int value, string expected)
        => throw new ArgumentOutOfRangeException(name, value, $"Expected {expected}.");
}
