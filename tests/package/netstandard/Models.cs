using System;
using RnnGen;

namespace PortableModels
{
    [RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 24, Output = 3)]
    public partial class Agent { }

    [RecurrentModel(Cell = CellKind.Lstm, Vocabulary = 30, Input = 8, Hidden = 16, Layers = 2, Bidirectional = true)]
    public partial class Encoder { }

    public static class Use
    {
        public static float[] Act(float[] observation)
        {
            var agent = new Agent(seed: 1);
            var action = new float[Agent.OutputSize];
            agent.Step(observation, action);
            return action;
        }
    }
}
