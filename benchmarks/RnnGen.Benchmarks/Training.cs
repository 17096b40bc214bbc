using System;
using BenchmarkDotNet.Attributes;

namespace RnnGen.Benchmarks;

/// <summary>
/// One training step at batch 32: <c>trainer.Forward</c> + loss + <c>trainer.Backward</c> + <c>Adam.Step</c>, for
/// configuration 2 (T = 128, MSE) and a char-level LSTM (T = 64, cross-entropy). <see cref="TrainerForward"/> (the
/// training forward alone, keeping activations) is the baseline, so the Ratio column of <see cref="TrainStep"/> is
/// (forward + backward + update) / forward; <see cref="InferenceForward"/> is the same batch through the inference path.
/// </summary>
public class Training
{
    [Params(TrainingModel.BiLstm128x256, TrainingModel.CharLstm)]
    public TrainingModel Model { get; set; }

    private OursTraining _ours = null!;
    private OursTraining _oursTwoThreads = null!;
    private TorchTrainingPeer? _torch;

    [GlobalSetup(Targets = new[] { nameof(TrainStep), nameof(ForwardBackward), nameof(TrainerForward), nameof(InferenceForward) })]
    public void SetupOurs() => _ours = new OursTraining(Model);

    [GlobalSetup(Target = nameof(TrainStepTwoThreads))]
    public void SetupOursTwoThreads() => _oursTwoThreads = new OursTraining(Model, threads: 2);

    [GlobalSetup(Targets = new[] { nameof(TorchSharpTrainStep), nameof(TorchSharpForward) })]
    public void SetupTorchSharp()
    {
        _ours = new OursTraining(Model);
        _torch = new TorchTrainingPeer(Model, _ours.Data);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _torch?.Dispose();
        _torch = null;
    }

    /// <summary>Forward, loss, backward, Adam: one optimizer step.</summary>
    [Benchmark]
    public float TrainStep() => _ours.TrainStep();

    /// <summary>
    /// Forward and backward alone (no loss, no update; a fixed dL/doutput): the issue's "forward + backward of a batch
    /// costs at most 3x its forward", which the Ratio column gives against <see cref="TrainerForward"/>.
    /// </summary>
    [Benchmark]
    public void ForwardBackward() => _ours.ForwardBackward();

    /// <summary>
    /// The same step with the model's Threads = 2 (wall clock; outside the single-thread comparison): a
    /// bidirectional model's trainer runs the two directions of each layer at the same time, the char LSTM's runs each
    /// layer in two parts of the batch's sequences and its weight products in two parts of their rows.
    /// </summary>
    [Benchmark]
    public float TrainStepTwoThreads() => _oursTwoThreads.TrainStep();

    /// <summary>The trainer's forward alone (keeps what Backward needs).</summary>
    [Benchmark(Baseline = true)]
    public void TrainerForward() => _ours.TrainerForward();

    /// <summary>The same batch through the model's inference Forward.</summary>
    [Benchmark]
    public void InferenceForward() => _ours.InferenceForward();

    /// <summary>TorchSharp: zero_grad, forward, loss, backward, Adam.</summary>
    [Benchmark]
    public void TorchSharpTrainStep() => _torch!.TrainStep();

    /// <summary>TorchSharp: the forward and loss with autograd recording.</summary>
    [Benchmark]
    public void TorchSharpForward() => _torch!.Forward();
}

/// <summary>Our side of a training benchmark: the model, its trainer, Adam, and the fixed batch.</summary>
internal sealed class OursTraining
{
    private readonly BiLstm128x256? _bi;
    private readonly BiLstm128x256.Trainer? _biTrainer;
    private readonly CharLstm? _char;
    private readonly CharLstm.Trainer? _charTrainer;
    private readonly IRecurrentModel _model;
    private readonly Adam _adam;
    private readonly float[] _output, _outputGrad;

    public TrainingData Data { get; }

    public OursTraining(TrainingModel model, int threads = 1)
    {
        Data = TrainingData.Create(model);
        if (model == TrainingModel.BiLstm128x256)
        {
            _bi = new BiLstm128x256(Fixture.Seed) { Threads = threads };
            _bi.Reserve(Data.Steps, Data.Batch);
            _biTrainer = _bi.CreateTrainer(Data.Steps, Data.Batch);
            _model = _bi;
            _output = new float[Data.Steps * Data.Batch * BiLstm128x256.OutputSize];
        }
        else
        {
            _char = new CharLstm(Fixture.Seed) { Threads = threads };
            _char.Reserve(Data.Steps, Data.Batch);
            _charTrainer = _char.CreateTrainer(Data.Steps, Data.Batch);
            _model = _char;
            _output = new float[Data.Steps * Data.Batch * CharLstm.OutputSize];
        }
        _outputGrad = new float[_output.Length];
        _adam = new Adam(_model.ParameterCount);
        _model.ZeroGradients();
        Loss(); // a dL/doutput for ForwardBackward
    }

    /// <summary>The trainer's forward and backward on the batch with the last dL/doutput (accumulating gradients; no update).</summary>
    public void ForwardBackward()
    {
        TrainerForward();
        if (_biTrainer is not null) _biTrainer.Backward(_outputGrad, default);
        else _charTrainer!.Backward(_outputGrad, default);
    }

    public float TrainStep()
    {
        _model.ZeroGradients();
        TrainerForward();
        float loss = LossAndGradient();
        if (_biTrainer is not null) _biTrainer.Backward(_outputGrad, default);
        else _charTrainer!.Backward(_outputGrad, default);
        _adam.Step(_model.Parameters, _model.Gradients);
        return loss;
    }

    public void TrainerForward()
    {
        if (_biTrainer is not null) _biTrainer.Forward(Data.Input!, Data.Batch, default, _output, default, default);
        else _charTrainer!.Forward(Data.Tokens!, Data.Batch, default, _output, default, default);
    }

    public void InferenceForward()
    {
        if (_bi is not null) _bi.Forward(Data.Input!, Data.Batch, default, _output);
        else _char!.Forward(Data.Tokens!, Data.Batch, default, _output);
    }

    /// <summary>The loss of the batch under the current weights (inference path).</summary>
    public float Loss()
    {
        InferenceForward();
        return LossAndGradient();
    }

    private float LossAndGradient() => _bi is not null
        ? Losses.MeanSquaredError(_output, Data.Target!, _outputGrad)
        : Losses.SoftmaxCrossEntropy(_output, Data.NextTokens!, _outputGrad);
}
