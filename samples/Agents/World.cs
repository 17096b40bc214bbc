using System;

namespace RnnGen.Samples.Agents;

/// <summary>
/// A small chase game: every agent hunts its own target in a walled square arena. The target wanders at walking
/// pace, turning now and then; the agent sees it only intermittently (on a few frames a second, with noisy
/// position), so it has to remember where the target was, how it was moving, and how far the agent itself has
/// moved since. An agent that comes within <see cref="CatchRadius"/> catches its target, which then reappears
/// elsewhere (seen on that frame, with <see cref="ObservationFresh"/> set).
/// </summary>
/// <remarks>
/// <para>
/// The state is kept as structure-of-arrays, one float per agent per field, and every method works on one agent,
/// so a frame of hundreds of agents allocates nothing. Randomness comes from one seeded <see cref="Rng"/>: a run
/// is reproducible for a given seed and sequence of actions.
/// </para>
/// <para>Units: metres, seconds. Each frame is <see cref="Dt"/> seconds (30 frames per second).</para>
/// </remarks>
public sealed class World
{
    /// <summary>Seconds per frame.</summary>
    public const float Dt = 1f / 30f;

    /// <summary>The arena is [-HalfSize, HalfSize]² metres.</summary>
    public const float HalfSize = 10f;

    /// <summary>Distance at which an agent catches its target.</summary>
    public const float CatchRadius = 0.5f;

    /// <summary>The target's speed, metres per second.</summary>
    public const float TargetSpeed = 1.5f;

    /// <summary>Per-frame probability that the target changes heading (about every two seconds).</summary>
    public const float TurnProbability = 1f / 60f;

    /// <summary>Per-frame probability that the agent sees its target (1.5 sightings a second).</summary>
    public const float SightProbability = 0.05f;

    /// <summary>Standard deviation of a sighting's position error, metres per axis.</summary>
    public const float SightNoise = 0.25f;

    /// <summary>Largest acceleration an agent can apply, m/s².</summary>
    public const float MaxAcceleration = 6f;

    /// <summary>Linear drag of the agents, 1/s (top speed MaxAcceleration / Drag).</summary>
    public const float Drag = 1f;

    /// <summary>Observation floats per agent per frame: seen, sighted dx, dy, own vx, vy, fresh.</summary>
    public const int ObservationSize = 6;

    /// <summary>Index of the 1/0 "seen this frame" flag in an observation.</summary>
    public const int ObservationSeen = 0;

    /// <summary>Index of the 1/0 "the target just reappeared" flag in an observation.</summary>
    public const int ObservationFresh = 5;

    /// <summary>Floats of a tracking label: the true target offset (x, y) / LabelPositionScale and target velocity (x, y) / TargetSpeed.</summary>
    public const int LabelSize = 4;

    /// <summary>Positions and offsets are divided by this in observations and labels (inputs near unit scale).</summary>
    public const float PositionScale = 5f;

    /// <summary>
    /// Offsets in labels are divided by this: smaller than <see cref="PositionScale"/>, so that the squared error weighs
    /// a metre of position error more than a metre per second of velocity error (catching needs the position).
    /// </summary>
    public const float LabelPositionScale = 2f;

    /// <summary>Velocities are divided by this in observations.</summary>
    public const float VelocityScale = 5f;

    // The steering law every policy shares: chase a point ahead of the target's motion.
    private const float PursuitGain = 2f;      // desired closing speed per metre of distance, 1/s
    private const float MaxDesiredSpeed = 5f;  // m/s
    private const float VelocityGain = 3f;     // acceleration per m/s of velocity error, 1/s

    private readonly float[] _px, _py, _vx, _vy, _tx, _ty, _ux, _uy;
    private readonly bool[] _fresh;
    private readonly int[] _catches;
    private readonly Rng _rng;

    /// <summary>Creates <paramref name="agents"/> agents at random places, each with its target somewhere in front of it.</summary>
    public World(int agents, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(agents);
        Agents = agents;
        _px = new float[agents];
        _py = new float[agents];
        _vx = new float[agents];
        _vy = new float[agents];
        _tx = new float[agents];
        _ty = new float[agents];
        _ux = new float[agents];
        _uy = new float[agents];
        _fresh = new bool[agents];
        _catches = new int[agents];
        _rng = new Rng(seed);
        for (int i = 0; i < agents; i++)
        {
            _px[i] = Uniform(-HalfSize + 1, HalfSize - 1);
            _py[i] = Uniform(-HalfSize + 1, HalfSize - 1);
            Respawn(i);
        }
    }

    /// <summary>Number of agents.</summary>
    public int Agents { get; }

    /// <summary>Frames simulated so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Targets caught so far, all agents together.</summary>
    public long TotalCatches { get; private set; }

    /// <summary>Targets caught per agent per minute of game time.</summary>
    public double CatchesPerMinute => Frames == 0 ? double.NaN : TotalCatches / (double)Agents / (Frames * Dt / 60.0);

    /// <summary>Targets caught by one agent.</summary>
    public int Catches(int agent) => _catches[agent];

    /// <summary>
    /// Writes what agent <paramref name="agent"/> perceives this frame: whether it sees its target, the sighted offset
    /// (noisy; zeros when unseen), its own velocity, and whether the target just reappeared.
    /// </summary>
    /// <returns>Whether the target is seen this frame.</returns>
    public bool Observe(int agent, Span<float> observation)
    {
        bool fresh = _fresh[agent];
        bool seen = fresh || _rng.NextSingle() < SightProbability;
        observation[ObservationSeen] = seen ? 1f : 0f;
        if (seen)
        {
            observation[1] = (_tx[agent] - _px[agent] + SightNoise * Gaussian()) / PositionScale;
            observation[2] = (_ty[agent] - _py[agent] + SightNoise * Gaussian()) / PositionScale;
        }
        else
        {
            observation[1] = 0f;
            observation[2] = 0f;
        }
        observation[3] = _vx[agent] / VelocityScale;
        observation[4] = _vy[agent] / VelocityScale;
        observation[ObservationFresh] = fresh ? 1f : 0f;
        _fresh[agent] = false;
        return seen;
    }

    /// <summary>The truth a tracker should estimate: the target's offset from the agent and the target's velocity, scaled.</summary>
    public void Label(int agent, Span<float> label)
    {
        label[0] = (_tx[agent] - _px[agent]) / LabelPositionScale;
        label[1] = (_ty[agent] - _py[agent]) / LabelPositionScale;
        label[2] = _ux[agent] / TargetSpeed;
        label[3] = _uy[agent] / TargetSpeed;
    }

    /// <summary>Distance in metres between the target's true offset and the offset in <paramref name="estimate"/> (label units).</summary>
    public float PositionError(int agent, ReadOnlySpan<float> estimate)
    {
        float ex = estimate[0] * LabelPositionScale - (_tx[agent] - _px[agent]);
        float ey = estimate[1] * LabelPositionScale - (_ty[agent] - _py[agent]);
        return MathF.Sqrt(ex * ex + ey * ey);
    }

    /// <summary>The scripted controller with perfect information: the steering law on the true offset and target velocity.</summary>
    public (float Ax, float Ay) OracleAction(int agent)
        => Steer(_tx[agent] - _px[agent], _ty[agent] - _py[agent], _ux[agent], _uy[agent], _vx[agent], _vy[agent]);

    /// <summary>The steering law on an estimate in the label's scaled units (a tracker's output).</summary>
    public (float Ax, float Ay) EstimateAction(int agent, ReadOnlySpan<float> estimate)
        => Steer(estimate[0] * LabelPositionScale, estimate[1] * LabelPositionScale, estimate[2] * TargetSpeed, estimate[3] * TargetSpeed, _vx[agent], _vy[agent]);

    /// <summary>
    /// A policy without memory: on a frame it sees the target it steers at the sighted position (it cannot know the
    /// target's velocity); on other frames it coasts.
    /// </summary>
    public (float Ax, float Ay) ReactiveAction(int agent, ReadOnlySpan<float> observation)
        => observation[ObservationSeen] > 0f
            ? Steer(observation[1] * PositionScale, observation[2] * PositionScale, 0f, 0f, _vx[agent], _vy[agent])
            : (0f, 0f);

    /// <summary>A uniformly random acceleration in the disc of radius <see cref="MaxAcceleration"/>.</summary>
    public (float Ax, float Ay) RandomAction()
    {
        float angle = Uniform(0f, 2f * MathF.PI);
        float radius = MaxAcceleration * MathF.Sqrt(_rng.NextSingle());
        return (radius * MathF.Cos(angle), radius * MathF.Sin(angle));
    }

    /// <summary>A uniform draw in [0, 1) from the world's generator.</summary>
    public float NextSingle() => _rng.NextSingle();

    /// <summary>A standard normal draw from the world's generator (for exploration noise).</summary>
    public float Gaussian() => (float)_rng.NextGaussian();

    /// <summary>
    /// The shared steering law: a desired velocity of the target's velocity plus a closing speed proportional to the
    /// distance (capped), reached with a proportional acceleration (capped at <see cref="MaxAcceleration"/>).
    /// </summary>
    public static (float Ax, float Ay) Steer(float offsetX, float offsetY, float targetVx, float targetVy, float vx, float vy)
    {
        float dx = targetVx + PursuitGain * offsetX, dy = targetVy + PursuitGain * offsetY;
        float speed = MathF.Sqrt(dx * dx + dy * dy);
        if (speed > MaxDesiredSpeed)
        {
            dx *= MaxDesiredSpeed / speed;
            dy *= MaxDesiredSpeed / speed;
        }
        return Clamp(VelocityGain * (dx - vx), VelocityGain * (dy - vy), MaxAcceleration);
    }

    /// <summary>
    /// Advances agent <paramref name="agent"/> and its target by one frame with acceleration (ax, ay): the agent
    /// integrates with drag and stops at the walls, the target walks on (turning now and then, bouncing off the walls),
    /// and a catch respawns the target.
    /// </summary>
    public void Advance(int agent, float ax, float ay)
    {
        (ax, ay) = Clamp(ax, ay, MaxAcceleration);
        float vx = _vx[agent] + (ax - Drag * _vx[agent]) * Dt;
        float vy = _vy[agent] + (ay - Drag * _vy[agent]) * Dt;
        float px = _px[agent] + vx * Dt, py = _py[agent] + vy * Dt;
        if (MathF.Abs(px) > HalfSize) { px = MathF.CopySign(HalfSize, px); vx = 0f; }
        if (MathF.Abs(py) > HalfSize) { py = MathF.CopySign(HalfSize, py); vy = 0f; }
        _px[agent] = px; _py[agent] = py; _vx[agent] = vx; _vy[agent] = vy;

        if (_rng.NextSingle() < TurnProbability) Head(agent, Uniform(0f, 2f * MathF.PI));
        float tx = _tx[agent] + _ux[agent] * Dt, ty = _ty[agent] + _uy[agent] * Dt;
        if (MathF.Abs(tx) > HalfSize) { tx = MathF.CopySign(HalfSize, tx); _ux[agent] = -_ux[agent]; }
        if (MathF.Abs(ty) > HalfSize) { ty = MathF.CopySign(HalfSize, ty); _uy[agent] = -_uy[agent]; }
        _tx[agent] = tx; _ty[agent] = ty;

        float ox = tx - px, oy = ty - py;
        if (ox * ox + oy * oy < CatchRadius * CatchRadius)
        {
            _catches[agent]++;
            TotalCatches++;
            Respawn(agent);
        }
    }

    /// <summary>Counts a frame (call once per frame, after every agent advanced).</summary>
    public void EndFrame() => Frames++;

    /// <summary>Puts agent <paramref name="agent"/>'s target 3 to 8 m away inside the arena, walking in a random direction, seen on the next frame.</summary>
    private void Respawn(int agent)
    {
        float limit = HalfSize - 0.5f;
        for (int attempt = 0; ; attempt++)
        {
            float angle = Uniform(0f, 2f * MathF.PI), distance = Uniform(3f, 8f);
            float x = _px[agent] + distance * MathF.Cos(angle), y = _py[agent] + distance * MathF.Sin(angle);
            if ((MathF.Abs(x) <= limit && MathF.Abs(y) <= limit) || attempt >= 20)
            {
                _tx[agent] = Math.Clamp(x, -limit, limit);
                _ty[agent] = Math.Clamp(y, -limit, limit);
                break;
            }
        }
        Head(agent, Uniform(0f, 2f * MathF.PI));
        _fresh[agent] = true;
    }

    private void Head(int agent, float angle)
    {
        _ux[agent] = TargetSpeed * MathF.Cos(angle);
        _uy[agent] = TargetSpeed * MathF.Sin(angle);
    }

    private float Uniform(float low, float high) => low + (high - low) * _rng.NextSingle();

    private static (float, float) Clamp(float x, float y, float max)
    {
        float norm = MathF.Sqrt(x * x + y * y);
        return norm > max ? (x * max / norm, y * max / norm) : (x, y);
    }
}
