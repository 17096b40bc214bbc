namespace RnnGen.Samples.Agents;

/// <summary>
/// The agents' memory: a GRU that reads each frame's observation (seen flag, sighted offset, own velocity, fresh flag)
/// and estimates where the target is now and how it moves (offset x, y and velocity x, y, scaled as
/// <see cref="World.Label"/>). The steering law turns the estimate into an acceleration.
/// </summary>
[RecurrentModel(Cell = CellKind.Gru, Input = World.ObservationSize, Hidden = 64, Output = World.LabelSize)]
public partial class TrackerGru { }
