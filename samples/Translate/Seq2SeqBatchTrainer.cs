using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace RnnGen.Samples.Translate;

/// <summary>
/// One teacher-forced training step of the encoder-decoder on a padded batch of sentence pairs of unequal lengths,
/// backpropagated end to end: the decoder's gradient with respect to its initial state is the gradient with
/// respect to the encoder's final state. Holds both trainers and every buffer, allocated once.
/// </summary>
/// <remarks>
/// <code>
/// encoder.Forward(source)                         -> final state h      [Layers, batch, Hidden]
/// decoder.Forward(&lt;start&gt; + target, initial: h)   -> logits             [steps, batch, TargetVocabulary]
/// loss = cross-entropy(logits, target + &lt;end&gt;), padding ignored
/// decoder.Backward(dlogits)                       -> dL/dh (its initialStateGrad)
/// encoder.Backward(0, finalStateGrad: dL/dh)       (its outputs are not used: their gradient is zero)
/// </code>
/// </remarks>
public sealed class Seq2SeqBatchTrainer
{
    /// <summary>The target of padded decoder steps: contributes neither loss nor gradient (PyTorch's default ignore_index).</summary>
    public const int IgnoreIndex = -100;

    private const int S = NumberTranslator.StateSize;
    private const int V = NumberDecoder.OutputSize;
    private const int EncoderWidth = NumberEncoder.OutputSize; // per-step output of the head-less encoder: its hidden state

    private readonly NumberTranslator _model;
    private readonly NumberEncoder.Trainer _encoder;
    private readonly NumberDecoder.Trainer _decoder;
    private readonly int[] _sourceTokens, _sourceLengths, _decoderTokens, _decoderLengths, _expected, _expectedLengths;
    private readonly float[] _encoderOutput, _encoderOutputGradient, _encoderFinal, _decoderInitialGradient, _logits, _logitGradient;

    /// <summary>Creates the trainers for sources of up to <paramref name="maxSourceSteps"/> words, decoder sequences of up to <paramref name="maxTargetSteps"/> tokens (&lt;start&gt; or &lt;end&gt; included) and batches of up to <paramref name="maxBatch"/>.</summary>
    public Seq2SeqBatchTrainer(NumberTranslator model, int maxSourceSteps, int maxTargetSteps, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _encoder = model.Encoder.CreateTrainer(maxSourceSteps, maxBatch);
        _decoder = model.Decoder.CreateTrainer(maxTargetSteps, maxBatch);
        _sourceTokens = new int[maxSourceSteps * maxBatch];
        _sourceLengths = new int[maxBatch];
        _decoderTokens = new int[maxTargetSteps * maxBatch];
        _decoderLengths = new int[maxBatch];
        _expected = new int[maxTargetSteps * maxBatch];
        _expectedLengths = new int[maxBatch];
        _encoderOutput = new float[maxSourceSteps * maxBatch * EncoderWidth];
        // Nothing reads the encoder's per-step outputs, so their gradient stays zero.
        _encoderOutputGradient = new float[maxSourceSteps * maxBatch * EncoderWidth];
        _encoderFinal = new float[maxBatch * S];
        _decoderInitialGradient = new float[maxBatch * S];
        _logits = new float[maxTargetSteps * maxBatch * V];
        _logitGradient = new float[maxTargetSteps * maxBatch * V];
    }

    /// <summary>
    /// Sets both models' gradients to those of the mean per-token cross-entropy over the batch and returns that loss.
    /// </summary>
    /// <param name="sources">Source ids per sentence.</param>
    /// <param name="decoderInputs">Per sentence, &lt;start&gt; followed by the target ids.</param>
    /// <param name="decoderTargets">Per sentence, the target ids followed by &lt;end&gt; (as long as its decoder input).</param>
    /// <param name="indices">The sentences of this batch.</param>
    public float ComputeGradients(IReadOnlyList<int[]> sources, IReadOnlyList<int[]> decoderInputs, IReadOnlyList<int[]> decoderTargets, ReadOnlySpan<int> indices)
    {
        int n = indices.Length;
        _model.Encoder.ZeroGradients();
        _model.Decoder.ZeroGradients();

        // Encoder: its final states are [Layers, batch, Hidden], the layout the decoder's initial state takes.
        int sourceSteps = Batching.PadTokens(sources, indices, _sourceTokens, _sourceLengths, WordVocabulary.Padding);
        Span<float> final = _encoderFinal.AsSpan(0, n * S);
        _encoder.Forward(_sourceTokens.AsSpan(0, sourceSteps * n), n, _sourceLengths.AsSpan(0, n), _encoderOutput.AsSpan(0, sourceSteps * n * EncoderWidth), default, final);

        // Decoder, teacher-forced: input <start> y1 .. yT, expected y1 .. yT <end>; padded steps are ignored.
        int targetSteps = Batching.PadTokens(decoderInputs, indices, _decoderTokens, _decoderLengths, WordVocabulary.Padding);
        Batching.PadTokens(decoderTargets, indices, _expected, _expectedLengths, IgnoreIndex);
        Span<float> logits = _logits.AsSpan(0, targetSteps * n * V);
        Span<float> logitGradient = _logitGradient.AsSpan(0, targetSteps * n * V);
        _decoder.Forward(_decoderTokens.AsSpan(0, targetSteps * n), n, _decoderLengths.AsSpan(0, n), logits, final, default);
        float loss = Losses.SoftmaxCrossEntropy(logits, _expected.AsSpan(0, targetSteps * n), logitGradient, Reduction.Mean, IgnoreIndex);

        // End to end: dL/d(decoder initial state) = dL/d(encoder final state).
        Span<float> initialGradient = _decoderInitialGradient.AsSpan(0, n * S);
        _decoder.Backward(logitGradient, default, default, initialGradient);
        _encoder.Backward(_encoderOutputGradient.AsSpan(0, sourceSteps * n * EncoderWidth), default, initialGradient, default);
        return loss;
    }

    /// <summary>The global L2 norm of both models' gradients together.</summary>
    public float GradientNorm()
    {
        float encoder = TensorPrimitives.Norm(_model.Encoder.Gradients);
        float decoder = TensorPrimitives.Norm(_model.Decoder.Gradients);
        return MathF.Sqrt(encoder * encoder + decoder * decoder);
    }

    /// <summary>Scales both models' gradients so their joint global norm is at most <paramref name="maxNorm"/> (as clip_grad_norm_ over both); returns the norm before.</summary>
    public float ClipGradients(float maxNorm)
    {
        float norm = GradientNorm();
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f)
        {
            TensorPrimitives.Multiply(_model.Encoder.Gradients, coefficient, _model.Encoder.Gradients);
            TensorPrimitives.Multiply(_model.Decoder.Gradients, coefficient, _model.Decoder.Gradients);
        }
        return norm;
    }
}
