using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// A first-order optimizer over one flat parameter vector (a generated model's <c>Parameters</c> span), with the
/// exact update rules of its <c>torch.optim</c> namesake. State is allocated once, in the constructor;
/// <see cref="Step"/> allocates nothing.
/// </summary>
public interface IOptimizer
{
    /// <summary>The step size. Change it between steps to follow a <see cref="LearningRateSchedule"/>.</summary>
    float LearningRate { get; set; }

    /// <summary>How many times <see cref="Step"/> has run since construction or the last <see cref="Reset"/>.</summary>
    long StepCount { get; }

    /// <summary>Updates <paramref name="parameters"/> in place from <paramref name="gradients"/> of the loss.</summary>
    /// <exception cref="ArgumentException">A span's length is not the parameter count given to the constructor.</exception>
    void Step(Span<float> parameters, ReadOnlySpan<float> gradients);

    /// <summary>Forgets all state (moments, accumulators, momentum, step count), as a freshly constructed optimizer.</summary>
    void Reset();
}

/// <summary>
/// Stochastic gradient descent, as <c>torch.optim.SGD</c>: g = ∇ + λθ; with momentum μ the buffer is
/// b = g on the first step and b = μb + (1 - dampening)g after; the step uses g + μb (Nesterov) or b; θ -= lr · step.
/// </summary>
public sealed class Sgd : IOptimizer
{
    private readonly float[] _momentumBuffer;
    private float _learningRate;

    /// <summary>Creates the optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="momentum">μ; 0 disables momentum (and its buffer).</param>
    /// <param name="dampening">Scales the new gradient's share of the momentum buffer by (1 - dampening).</param>
    /// <param name="nesterov">Nesterov momentum; needs momentum &gt; 0 and dampening 0, as PyTorch.</param>
    /// <param name="weightDecay">L2 penalty λ, added to the gradient as λθ.</param>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyperparameter is negative or not finite.</exception>
    public Sgd(int parameterCount, float learningRate, float momentum = 0f, float dampening = 0f, bool nesterov = false, float weightDecay = 0f)
    {
        ParameterCount = OptimizerKernel.CheckCount(parameterCount);
        _learningRate = TrainingChecks.NonNegative(learningRate, nameof(learningRate));
        Momentum = TrainingChecks.NonNegative(momentum, nameof(momentum));
        Dampening = dampening;
        if (float.IsNaN(dampening) || float.IsInfinity(dampening))
            throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "dampening must be finite.");
        if (nesterov && (momentum <= 0f || dampening != 0f))
            throw new ArgumentException(
                $"Nesterov momentum requires momentum > 0 and dampening = 0; got momentum {momentum} and dampening {dampening}.", nameof(nesterov));
        Nesterov = nesterov;
        WeightDecay = TrainingChecks.NonNegative(weightDecay, nameof(weightDecay));
        _momentumBuffer = momentum != 0f ? OptimizerKernel.AllocateState(parameterCount) : Array.Empty<float>();
    }

    /// <summary>Length of the spans <see cref="Step"/> takes.</summary>
    public int ParameterCount { get; }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>The dampening of the momentum buffer.</summary>
    public float Dampening { get; }

    /// <summary>Whether the step uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 penalty λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = TrainingChecks.NonNegative(value, nameof(value));
    }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerKernel.CheckLengths(parameters, gradients, ParameterCount);
        var update = new Update
        {
            Buffer = _momentumBuffer,
            LearningRate = _learningRate,
            WeightDecay = WeightDecay,
            Momentum = Momentum,
            GradientShare = (float)(1.0 - Dampening),
            Nesterov = Nesterov,
            FirstStep = StepCount == 0,
        };
        OptimizerKernel.Apply(parameters, gradients, ref update);
        StepCount++;
    }

    /// <inheritdoc />
    public void Reset()
    {
        Array.Clear(_momentumBuffer, 0, _momentumBuffer.Length);
        StepCount = 0;
    }

    private struct Update : IParameterUpdate
    {
        public float[] Buffer;
        public float LearningRate, WeightDecay, Momentum, GradientShare;
        public bool Nesterov, FirstStep;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index)
        {
            if (WeightDecay != 0f) gradient += WeightDecay * parameter;
            if (Momentum != 0f)
            {
                ref Vector<float> buffer = ref OptimizerKernel.At(Buffer, index);
                buffer = FirstStep ? gradient : Momentum * buffer + GradientShare * gradient;
                gradient = Nesterov ? gradient + Momentum * buffer : buffer;
            }
            return parameter - LearningRate * gradient;
        }
    }
}

/// <summary>
/// Adam, as <c>torch.optim.Adam</c> (amsgrad off): g = ∇ + λθ (L2 folded into the gradient);
/// m = β₁m + (1-β₁)g; v = β₂v + (1-β₂)g²; θ -= lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε).
/// </summary>
public sealed class Adam : IOptimizer
{
    private readonly AdamState _state;

    /// <summary>Creates the optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">Decay of the first-moment (mean) estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second-moment (uncentered variance) estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability.</param>
    /// <param name="weightDecay">L2 penalty λ, added to the gradient (use <see cref="AdamW"/> for decoupled decay).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyperparameter is out of range.</exception>
    public Adam(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        _state = new AdamState(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay);
    }

    /// <summary>Length of the spans <see cref="Step"/> takes.</summary>
    public int ParameterCount => _state.ParameterCount;

    /// <summary>β₁.</summary>
    public float Beta1 => _state.Beta1;

    /// <summary>β₂.</summary>
    public float Beta2 => _state.Beta2;

    /// <summary>ε.</summary>
    public float Epsilon => _state.Epsilon;

    /// <summary>L2 penalty λ.</summary>
    public float WeightDecay => _state.WeightDecay;

    /// <inheritdoc />
    public float LearningRate
    {
        get => _state.LearningRate;
        set => _state.LearningRate = TrainingChecks.NonNegative(value, nameof(value));
    }

    /// <inheritdoc />
    public long StepCount => _state.StepCount;

    /// <inheritdoc />
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients) => _state.Step(parameters, gradients, decoupled: false);

    /// <inheritdoc />
    public void Reset() => _state.Reset();
}

/// <summary>
/// AdamW, as <c>torch.optim.AdamW</c>: first θ *= 1 - lr·λ (decoupled weight decay), then the <see cref="Adam"/>
/// update on the raw gradient.
/// </summary>
public sealed class AdamW : IOptimizer
{
    private readonly AdamState _state;

    /// <summary>Creates the optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="beta1">Decay of the first-moment (mean) estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second-moment (uncentered variance) estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability.</param>
    /// <param name="weightDecay">Decoupled decay λ: each step shrinks θ by the factor 1 - lr·λ (PyTorch's default 0.01).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyperparameter is out of range.</exception>
    public AdamW(int parameterCount, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
    {
        _state = new AdamState(parameterCount, learningRate, beta1, beta2, epsilon, weightDecay);
    }

    /// <summary>Length of the spans <see cref="Step"/> takes.</summary>
    public int ParameterCount => _state.ParameterCount;

    /// <summary>β₁.</summary>
    public float Beta1 => _state.Beta1;

    /// <summary>β₂.</summary>
    public float Beta2 => _state.Beta2;

    /// <summary>ε.</summary>
    public float Epsilon => _state.Epsilon;

    /// <summary>Decoupled decay λ.</summary>
    public float WeightDecay => _state.WeightDecay;

    /// <inheritdoc />
    public float LearningRate
    {
        get => _state.LearningRate;
        set => _state.LearningRate = TrainingChecks.NonNegative(value, nameof(value));
    }

    /// <inheritdoc />
    public long StepCount => _state.StepCount;

    /// <inheritdoc />
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients) => _state.Step(parameters, gradients, decoupled: true);

    /// <inheritdoc />
    public void Reset() => _state.Reset();
}

/// <summary>
/// Adagrad, as <c>torch.optim.Adagrad</c> (lr_decay 0): g = ∇ + λθ; s += g²; θ -= lr · g / (√s + ε), with s starting
/// at the initial accumulator value. PyTorch's defaults are lr 0.01, ε 1e-10; Karpathy's min-char-rnn uses lr 0.1,
/// ε 1e-8, initial accumulator 0.
/// </summary>
public sealed class Adagrad : IOptimizer
{
    private readonly float[] _sum;
    private float _learningRate;

    /// <summary>Creates the optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="epsilon">Added to √s for stability.</param>
    /// <param name="initialAccumulator">Starting value of every squared-gradient sum s.</param>
    /// <param name="weightDecay">L2 penalty λ, added to the gradient as λθ.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyperparameter is negative or not finite.</exception>
    public Adagrad(int parameterCount, float learningRate = 0.01f, float epsilon = 1e-10f, float initialAccumulator = 0f, float weightDecay = 0f)
    {
        ParameterCount = OptimizerKernel.CheckCount(parameterCount);
        _learningRate = TrainingChecks.NonNegative(learningRate, nameof(learningRate));
        Epsilon = TrainingChecks.NonNegative(epsilon, nameof(epsilon));
        InitialAccumulator = TrainingChecks.NonNegative(initialAccumulator, nameof(initialAccumulator));
        WeightDecay = TrainingChecks.NonNegative(weightDecay, nameof(weightDecay));
        _sum = OptimizerKernel.AllocateState(parameterCount);
        Array.Fill(_sum, InitialAccumulator);
    }

    /// <summary>Length of the spans <see cref="Step"/> takes.</summary>
    public int ParameterCount { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>Starting value of the squared-gradient sums.</summary>
    public float InitialAccumulator { get; }

    /// <summary>L2 penalty λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = TrainingChecks.NonNegative(value, nameof(value));
    }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerKernel.CheckLengths(parameters, gradients, ParameterCount);
        var update = new Update { Sum = _sum, LearningRate = _learningRate, Epsilon = Epsilon, WeightDecay = WeightDecay };
        OptimizerKernel.Apply(parameters, gradients, ref update);
        StepCount++;
    }

    /// <inheritdoc />
    public void Reset()
    {
        Array.Fill(_sum, InitialAccumulator);
        StepCount = 0;
    }

    private struct Update : IParameterUpdate
    {
        public float[] Sum;
        public float LearningRate, Epsilon, WeightDecay;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index)
        {
            if (WeightDecay != 0f) gradient += WeightDecay * parameter;
            ref Vector<float> sum = ref OptimizerKernel.At(Sum, index);
            sum += gradient * gradient;
            Vector<float> std = Vector.SquareRoot(sum) + new Vector<float>(Epsilon);
            return parameter - LearningRate * (gradient / std);
        }
    }
}

/// <summary>
/// RMSprop, as <c>torch.optim.RMSprop</c>: g = ∇ + λθ; v = αv + (1-α)g²; the denominator is √v + ε, or
/// √(v - ḡ²) + ε when centered (ḡ = αḡ + (1-α)g); with momentum μ the buffer b = μb + g/denominator and θ -= lr·b,
/// else θ -= lr · g/denominator.
/// </summary>
public sealed class RmsProp : IOptimizer
{
    private readonly float[] _squareAverage;
    private readonly float[] _gradientAverage;
    private readonly float[] _momentumBuffer;
    private float _learningRate;

    /// <summary>Creates the optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans passed to <see cref="Step"/>.</param>
    /// <param name="learningRate">Step size lr.</param>
    /// <param name="alpha">Smoothing constant α of the running averages.</param>
    /// <param name="epsilon">Added to the denominator for stability.</param>
    /// <param name="momentum">μ; 0 disables momentum (and its buffer).</param>
    /// <param name="centered">Normalize by an estimate of the gradient's variance instead of its raw second moment.</param>
    /// <param name="weightDecay">L2 penalty λ, added to the gradient as λθ.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or hyperparameter is negative or not finite.</exception>
    public RmsProp(int parameterCount, float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float momentum = 0f, bool centered = false, float weightDecay = 0f)
    {
        ParameterCount = OptimizerKernel.CheckCount(parameterCount);
        _learningRate = TrainingChecks.NonNegative(learningRate, nameof(learningRate));
        Alpha = TrainingChecks.NonNegative(alpha, nameof(alpha));
        Epsilon = TrainingChecks.NonNegative(epsilon, nameof(epsilon));
        Momentum = TrainingChecks.NonNegative(momentum, nameof(momentum));
        Centered = centered;
        WeightDecay = TrainingChecks.NonNegative(weightDecay, nameof(weightDecay));
        _squareAverage = OptimizerKernel.AllocateState(parameterCount);
        _gradientAverage = centered ? OptimizerKernel.AllocateState(parameterCount) : Array.Empty<float>();
        _momentumBuffer = momentum > 0f ? OptimizerKernel.AllocateState(parameterCount) : Array.Empty<float>();
    }

    /// <summary>Length of the spans <see cref="Step"/> takes.</summary>
    public int ParameterCount { get; }

    /// <summary>α.</summary>
    public float Alpha { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>Whether the denominator uses the centered (variance) estimate.</summary>
    public bool Centered { get; }

    /// <summary>L2 penalty λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = TrainingChecks.NonNegative(value, nameof(value));
    }

    /// <inheritdoc />
    public long StepCount { get; private set; }

    /// <inheritdoc />
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerKernel.CheckLengths(parameters, gradients, ParameterCount);
        var update = new Update
        {
            SquareAverage = _squareAverage,
            GradientAverage = _gradientAverage,
            MomentumBuffer = _momentumBuffer,
            LearningRate = _learningRate,
            Alpha = Alpha,
            OneMinusAlpha = (float)(1.0 - Alpha),
            Epsilon = Epsilon,
            Momentum = Momentum,
            WeightDecay = WeightDecay,
            Centered = Centered,
        };
        OptimizerKernel.Apply(parameters, gradients, ref update);
        StepCount++;
    }

    /// <inheritdoc />
    public void Reset()
    {
        Array.Clear(_squareAverage, 0, _squareAverage.Length);
        Array.Clear(_gradientAverage, 0, _gradientAverage.Length);
        Array.Clear(_momentumBuffer, 0, _momentumBuffer.Length);
        StepCount = 0;
    }

    private struct Update : IParameterUpdate
    {
        public float[] SquareAverage, GradientAverage, MomentumBuffer;
        public float LearningRate, Alpha, OneMinusAlpha, Epsilon, Momentum, WeightDecay;
        public bool Centered;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index)
        {
            if (WeightDecay != 0f) gradient += WeightDecay * parameter;
            ref Vector<float> squareAverage = ref OptimizerKernel.At(SquareAverage, index);
            squareAverage = Alpha * squareAverage + OneMinusAlpha * (gradient * gradient);
            Vector<float> denominator;
            if (Centered)
            {
                ref Vector<float> gradientAverage = ref OptimizerKernel.At(GradientAverage, index);
                gradientAverage = Alpha * gradientAverage + OneMinusAlpha * gradient;
                denominator = Vector.SquareRoot(squareAverage - gradientAverage * gradientAverage);
            }
            else
            {
                denominator = Vector.SquareRoot(squareAverage);
            }
            denominator += new Vector<float>(Epsilon);
            if (Momentum > 0f)
            {
                ref Vector<float> buffer = ref OptimizerKernel.At(MomentumBuffer, index);
                buffer = Momentum * buffer + gradient / denominator;
                return parameter - LearningRate * buffer;
            }
            return parameter - LearningRate * (gradient / denominator);
        }
    }
}

/// <summary>
/// Gradient clipping and checks over one flat gradient vector, as <c>torch.nn.utils.clip_grad_norm_</c> and
/// <c>clip_grad_value_</c>. Nothing allocates.
/// </summary>
public static class GradientClipping
{
    /// <summary>The L2 norm of all gradients together, √Σg².</summary>
    public static float GlobalNorm(ReadOnlySpan<float> gradients) => TensorPrimitives.Norm(gradients);

    /// <summary>
    /// Scales <paramref name="gradients"/> so their global L2 norm is at most <paramref name="maxNorm"/>, exactly as
    /// <c>torch.nn.utils.clip_grad_norm_</c>: coef = maxNorm / (norm + 1e-6), applied only when coef &lt; 1.
    /// </summary>
    /// <returns>
    /// The norm before clipping. When it is NaN the gradients are left untouched (PyTorch would turn them all into
    /// NaN); either way check the result (or <see cref="IsFinite"/>) and skip the optimizer step.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN.</exception>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm >= 0f)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be ≥ 0.");
        float norm = GlobalNorm(gradients);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f) TensorPrimitives.Multiply(gradients, coefficient, gradients);
        return norm;
    }

    /// <summary>Clamps every gradient into [-<paramref name="clipValue"/>, <paramref name="clipValue"/>], as <c>clip_grad_value_</c>. NaN stays NaN.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static void ClipByValue(Span<float> gradients, float clipValue)
    {
        if (!(clipValue >= 0f)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "clipValue must be ≥ 0.");
        // Compare-and-select rather than min/max, whose NaN handling differs between instruction sets: a NaN
        // fails both comparisons and so passes through, as torch.clamp leaves it.
        int width = Vector<float>.Count;
        if (gradients.Length < width)
        {
            for (int i = 0; i < gradients.Length; i++)
            {
                float g = gradients[i];
                gradients[i] = g > clipValue ? clipValue : g < -clipValue ? -clipValue : g;
            }
            return;
        }
        var high = new Vector<float>(clipValue);
        var low = new Vector<float>(-clipValue);
        // Clamping is idempotent, so the tail re-clamps an overlapping last whole vector instead of a scalar loop.
        for (int i = 0; ; i = Math.Min(i + width, gradients.Length - width))
        {
            Vector<float> g = SpanAccess.Load(gradients, i);
            g = Vector.ConditionalSelect(Vector.GreaterThan(g, high), high, Vector.ConditionalSelect(Vector.LessThan(g, low), low, g));
            SpanAccess.Store(g, gradients, i);
            if (i == gradients.Length - width) break;
        }
    }

    /// <summary>Whether every value is finite (no NaN, no ±∞): the check to run before an optimizer step.</summary>
    /// <remarks>An empty span is finite (TensorPrimitives.IsFiniteAll would say otherwise).</remarks>
    public static bool IsFinite(ReadOnlySpan<float> values) => values.IsEmpty || Portable.AllFinite(values);
}

/// <summary>One optimizer's element-wise update, called on one vector of parameters at a time.</summary>
internal interface IParameterUpdate
{
    /// <summary>Returns the updated parameters; <paramref name="index"/> locates the matching optimizer state.</summary>
    Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index);
}

/// <summary>The loop every optimizer shares: whole vectors, then the tail through a zero-padded stack copy.</summary>
internal static class OptimizerKernel
{
    /// <summary>Most elements an array holds (Array.MaxLength).</summary>
    private const int MaxArrayLength = 0x7FFFFFC7;

    public static int CheckCount(int parameterCount)
    {
        if (parameterCount < 0) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "parameterCount must be ≥ 0.");
        // The state arrays are padded up to whole vectors (AllocateState): that size must still fit in an array.
        if (parameterCount > MaxArrayLength - Vector<float>.Count)
            throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, $"parameterCount must be at most {MaxArrayLength - Vector<float>.Count} (an optimizer's state arrays hold it padded to whole vectors).");
        return parameterCount;
    }

    public static void CheckLengths(Span<float> parameters, ReadOnlySpan<float> gradients, int parameterCount)
    {
        TrainingChecks.Length(parameters.Length, parameterCount, nameof(parameters), "the parameter count the optimizer was created with");
        TrainingChecks.Length(gradients.Length, parameterCount, nameof(gradients), "the parameter count the optimizer was created with");
    }

    /// <summary>State arrays are padded to whole vectors so the tail can run the same vector code.</summary>
    public static float[] AllocateState(int parameterCount)
    {
        int width = Vector<float>.Count;
        return new float[(parameterCount + width - 1) / width * width];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref Vector<float> At(float[] state, int index) => ref SpanAccess.VectorAt(state, index);

    // Fully optimized on first call: it runs once per training step over every parameter, too rarely for tiered
    // compilation to promote it during the first tens of steps.
    [MethodImpl(Jit.Optimized)]
    public static void Apply<TUpdate>(Span<float> parameters, ReadOnlySpan<float> gradients, ref TUpdate update)
        where TUpdate : struct, IParameterUpdate
    {
        int width = Vector<float>.Count;
        int whole = parameters.Length - parameters.Length % width;
        for (int i = 0; i < whole; i += width)
        {
            Vector<float> updated = update.Invoke(SpanAccess.Load(parameters, i), SpanAccess.Load(gradients, i), i);
            SpanAccess.Store(updated, parameters, i);
        }

        // The updates are stateful, so the tail cannot overlap the last whole vector (that would apply it twice);
        // it runs once more through zero-padded copies, whose padding lanes only touch the state's padding.
        int remainder = parameters.Length - whole;
        if (remainder == 0) return;
        Span<float> parameterTail = stackalloc float[width];
        Span<float> gradientTail = stackalloc float[width];
        parameterTail.Clear();
        gradientTail.Clear();
        parameters.Slice(whole).CopyTo(parameterTail);
        gradients.Slice(whole).CopyTo(gradientTail);
        Vector<float> tail = update.Invoke(SpanAccess.Load(parameterTail, 0), SpanAccess.Load(gradientTail, 0), whole);
        SpanAccess.Store(tail, parameterTail, 0);
        parameterTail.Slice(0, remainder).CopyTo(parameters.Slice(whole));
    }
}

/// <summary>The moments and step shared by <see cref="Adam"/> and <see cref="AdamW"/>, which differ only in weight decay.</summary>
internal sealed class AdamState
{
    private readonly float[] _firstMoment;
    private readonly float[] _secondMoment;

    public AdamState(int parameterCount, float learningRate, float beta1, float beta2, float epsilon, float weightDecay)
    {
        ParameterCount = OptimizerKernel.CheckCount(parameterCount);
        LearningRate = TrainingChecks.NonNegative(learningRate, nameof(learningRate));
        Beta1 = TrainingChecks.UnitInterval(beta1, nameof(beta1));
        Beta2 = TrainingChecks.UnitInterval(beta2, nameof(beta2));
        Epsilon = TrainingChecks.NonNegative(epsilon, nameof(epsilon));
        WeightDecay = TrainingChecks.NonNegative(weightDecay, nameof(weightDecay));
        _firstMoment = OptimizerKernel.AllocateState(parameterCount);
        _secondMoment = OptimizerKernel.AllocateState(parameterCount);
    }

    public int ParameterCount { get; }
    public float LearningRate { get; set; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public float WeightDecay { get; }
    public long StepCount { get; private set; }

    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, bool decoupled)
    {
        OptimizerKernel.CheckLengths(parameters, gradients, ParameterCount);
        long step = StepCount + 1;
        // Bias corrections in double, as PyTorch computes them in Python floats.
        double biasCorrection1 = 1.0 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1.0 - Math.Pow(Beta2, step);
        var update = new Update
        {
            FirstMoment = _firstMoment,
            SecondMoment = _secondMoment,
            Beta1 = Beta1,
            Beta2 = Beta2,
            OneMinusBeta1 = (float)(1.0 - Beta1),
            OneMinusBeta2 = (float)(1.0 - Beta2),
            StepSize = (float)(LearningRate / biasCorrection1),
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2),
            Epsilon = Epsilon,
            L2 = decoupled ? 0f : WeightDecay,
            DecoupledFactor = decoupled ? (float)(1.0 - (double)LearningRate * WeightDecay) : 1f,
        };
        OptimizerKernel.Apply(parameters, gradients, ref update);
        StepCount = step;
    }

    public void Reset()
    {
        Array.Clear(_firstMoment, 0, _firstMoment.Length);
        Array.Clear(_secondMoment, 0, _secondMoment.Length);
        StepCount = 0;
    }

    private struct Update : IParameterUpdate
    {
        public float[] FirstMoment, SecondMoment;
        public float Beta1, Beta2, OneMinusBeta1, OneMinusBeta2, StepSize, BiasCorrection2Sqrt, Epsilon, L2, DecoupledFactor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector<float> Invoke(Vector<float> parameter, Vector<float> gradient, int index)
        {
            if (DecoupledFactor != 1f) parameter *= DecoupledFactor;
            if (L2 != 0f) gradient += L2 * parameter;
            ref Vector<float> m = ref OptimizerKernel.At(FirstMoment, index);
            ref Vector<float> v = ref OptimizerKernel.At(SecondMoment, index);
            m = Beta1 * m + OneMinusBeta1 * gradient;
            v = Beta2 * v + OneMinusBeta2 * (gradient * gradient);
            Vector<float> denominator = Vector.SquareRoot(v) / new Vector<float>(BiasCorrection2Sqrt) + new Vector<float>(Epsilon);
            return parameter - StepSize * (m / denominator);
        }
    }
}
