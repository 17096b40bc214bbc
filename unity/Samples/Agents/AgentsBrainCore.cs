// The RnnGen half of the Agents sample: no UnityEngine, so it compiles anywhere (tests/unity builds and runs it under
// .NET against the package's DLLs). AgentsBrain.cs is the MonoBehaviour that feeds it once per frame.
#nullable enable
using System;
using System.IO;
using RnnGen;

namespace RnnGen.Samples.Unity
{
    /// <summary>
    /// Each agent's memory: a GRU reading what the agent sees this frame (the target's offset and the agent's own
    /// velocity) and returning an acceleration. One model serves every agent; each agent's state lives in
    /// <see cref="AgentsBrainCore"/>'s state array.
    /// </summary>
    [RecurrentModel(Cell = CellKind.Gru, Input = AgentsBrainCore.ObservationSize, Hidden = 32, Output = AgentsBrainCore.ActionSize)]
    public partial class AgentsBrainModel { }

    /// <summary>
    /// N agents on a plane chasing a target, driven by one multi-agent <c>Step</c> per frame. Every array is allocated
    /// here, once; <see cref="Frame"/> allocates nothing.
    /// </summary>
    public sealed class AgentsBrainCore
    {
        /// <summary>Offset to the target (x, y) and own velocity (x, y).</summary>
        public const int ObservationSize = 4;

        /// <summary>Acceleration (x, y), squashed to [-1, 1] and scaled by <see cref="MaxAcceleration"/>.</summary>
        public const int ActionSize = 2;

        public const float MaxAcceleration = 8f;
        public const float Drag = 0.9f;

        private readonly AgentsBrainModel model;
        private readonly float[] observations;
        private readonly float[] states;
        private readonly float[] actions;
        private readonly float[] positions;
        private readonly float[] velocities;

        /// <summary>
        /// <paramref name="agents"/> agents on a ring of radius 5; weights from <paramref name="weights"/> (a
        /// .safetensors stream, as <c>SaveSafetensors</c> writes it) when given, else PyTorch's initialization from
        /// <paramref name="seed"/>.
        /// </summary>
        public AgentsBrainCore(int agents, Stream? weights, int seed)
        {
            if (agents <= 0) throw new ArgumentOutOfRangeException(nameof(agents), agents, "At least one agent.");
            Agents = agents;
            model = new AgentsBrainModel(seed);
            if (weights != null) model.LoadSafetensors(weights);
            model.Reserve(1, agents);
            observations = new float[agents * ObservationSize];
            states = new float[agents * AgentsBrainModel.StateSize];
            actions = new float[agents * ActionSize];
            positions = new float[agents * 2];
            velocities = new float[agents * 2];
            for (int i = 0; i < agents; i++)
            {
                double angle = 2 * Math.PI * i / agents;
                positions[2 * i] = (float)(5 * Math.Cos(angle));
                positions[2 * i + 1] = (float)(5 * Math.Sin(angle));
            }
        }

        public int Agents { get; }

        public AgentsBrainModel Model => model;

        /// <summary>Agent <paramref name="agent"/>'s position (x, y).</summary>
        public ReadOnlySpan<float> Position(int agent) => positions.AsSpan(2 * agent, 2);

        /// <summary>What agent <paramref name="agent"/> saw in the last frame (<see cref="ObservationSize"/> floats).</summary>
        public ReadOnlySpan<float> Observation(int agent) => observations.AsSpan(ObservationSize * agent, ObservationSize);

        /// <summary>Agent <paramref name="agent"/>'s action of the last frame (x, y, before scaling).</summary>
        public ReadOnlySpan<float> Action(int agent) => actions.AsSpan(ActionSize * agent, ActionSize);

        /// <summary>Agent <paramref name="agent"/>'s recurrent state (<c>StateSize</c> floats).</summary>
        public Span<float> State(int agent) => states.AsSpan(AgentsBrainModel.StateSize * agent, AgentsBrainModel.StateSize);

        /// <summary>Forgets what agent <paramref name="agent"/> remembers (e.g. when it respawns).</summary>
        public void ResetAgent(int agent) => State(agent).Clear();

        /// <summary>One frame: observe, one multi-agent <c>Step</c> for all agents, move.</summary>
        public void Frame(float targetX, float targetY, float deltaTime)
        {
            for (int i = 0; i < Agents; i++)
            {
                int o = i * ObservationSize;
                observations[o] = targetX - positions[2 * i];
                observations[o + 1] = targetY - positions[2 * i + 1];
                observations[o + 2] = velocities[2 * i];
                observations[o + 3] = velocities[2 * i + 1];
            }

            model.Step(observations, Agents, states, actions);

            float drag = (float)Math.Pow(Drag, deltaTime * 60);
            for (int i = 0; i < Agents; i++)
            {
                for (int axis = 0; axis < 2; axis++)
                {
                    float acceleration = MaxAcceleration * (float)Math.Tanh(actions[i * ActionSize + axis]);
                    velocities[2 * i + axis] = (velocities[2 * i + axis] + acceleration * deltaTime) * drag;
                    positions[2 * i + axis] += velocities[2 * i + axis] * deltaTime;
                }
            }
        }
    }
}
