using System;

namespace RnnGen.Samples.Agents;

/// <summary>
/// The fair hand-written baseline: memory without learning. Each agent remembers where it last saw its target and
/// how fast the target was moving, extrapolates the target's position from there (dead reckoning), subtracts its own
/// motion since, and steers at the estimate with the same steering law as every other policy.
/// </summary>
/// <remarks>
/// <para>
/// It reads only what the GRU reads (the observation: seen flag, noisy sighted offset, own velocity, fresh flag).
/// The agent's own displacement is the sum of its observed velocities times <see cref="World.Dt"/> (exact but at the
/// walls, where the agent stops). A sighting sets the estimated target position to the sighted one; the target's
/// velocity is estimated from consecutive sightings of the same target (the displacement between them over the time
/// between them), smoothed, and capped at the target's known speed, since a sighting is noisy (0.25 m) and the
/// target turns now and then. A fresh target starts with no velocity estimate.
/// </para>
/// <para>Structure-of-arrays, one float per agent per field: a frame allocates nothing.</para>
/// </remarks>
public sealed class DeadReckoning
{
    /// <summary>Weight of a new velocity measurement against the running estimate.</summary>
    private const float VelocitySmoothing = 0.5f;

    /// <summary>Sightings further apart than this (seconds) give no velocity measurement: the target has probably turned.</summary>
    private const float MaxVelocityBaseline = 2f;

    // Agent displacement since the start (dead-reckoned from its own velocity), the last sighting in that frame and
    // its time, the target's estimated position and velocity in that frame.
    private readonly float[] _ax, _ay, _sx, _sy, _ex, _ey, _ux, _uy, _sightTime;
    private readonly bool[] _sighted;
    private float _time;

    /// <summary>Memory for <paramref name="agents"/> agents, none of which has seen its target yet.</summary>
    public DeadReckoning(int agents)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(agents);
        _ax = new float[agents];
        _ay = new float[agents];
        _sx = new float[agents];
        _sy = new float[agents];
        _ex = new float[agents];
        _ey = new float[agents];
        _ux = new float[agents];
        _uy = new float[agents];
        _sightTime = new float[agents];
        _sighted = new bool[agents];
    }

    /// <summary>
    /// Reads agent <paramref name="agent"/>'s observation of this frame, updates its memory and returns its estimate in
    /// the label's scaled units (target offset x, y and velocity x, y, as <see cref="World.Label"/>).
    /// </summary>
    public (float Dx, float Dy, float Vx, float Vy) Update(int agent, ReadOnlySpan<float> observation)
    {
        float vx = observation[3] * World.VelocityScale, vy = observation[4] * World.VelocityScale;
        // The velocity observed this frame is the one the agent moved with since the last frame.
        float ax = _ax[agent] += vx * World.Dt, ay = _ay[agent] += vy * World.Dt;

        if (observation[World.ObservationFresh] > 0f)
        {
            _sighted[agent] = false;
            _ux[agent] = 0f;
            _uy[agent] = 0f;
        }
        if (observation[World.ObservationSeen] > 0f)
        {
            float sx = ax + observation[1] * World.PositionScale, sy = ay + observation[2] * World.PositionScale;
            float elapsed = _time - _sightTime[agent];
            if (_sighted[agent] && elapsed > 0f && elapsed <= MaxVelocityBaseline)
            {
                float mx = (sx - _sx[agent]) / elapsed, my = (sy - _sy[agent]) / elapsed;
                float ux = _ux[agent] + VelocitySmoothing * (mx - _ux[agent]);
                float uy = _uy[agent] + VelocitySmoothing * (my - _uy[agent]);
                float speed = MathF.Sqrt(ux * ux + uy * uy);
                if (speed > World.TargetSpeed)
                {
                    ux *= World.TargetSpeed / speed;
                    uy *= World.TargetSpeed / speed;
                }
                _ux[agent] = ux;
                _uy[agent] = uy;
            }
            _sx[agent] = sx;
            _sy[agent] = sy;
            _sightTime[agent] = _time;
            _sighted[agent] = true;
            _ex[agent] = sx;
            _ey[agent] = sy;
        }
        else if (_sighted[agent])
        {
            // Dead reckoning: the target walks on with the estimated velocity.
            _ex[agent] += _ux[agent] * World.Dt;
            _ey[agent] += _uy[agent] * World.Dt;
        }
        if (!_sighted[agent]) return (0f, 0f, 0f, 0f); // never seen: hold still (cannot happen after the first frame: a new target is seen)
        return ((_ex[agent] - ax) / World.LabelPositionScale, (_ey[agent] - ay) / World.LabelPositionScale, _ux[agent] / World.TargetSpeed, _uy[agent] / World.TargetSpeed);
    }

    /// <summary>Advances the memory's clock by one frame (call once per frame, after every agent's update).</summary>
    public void EndFrame() => _time += World.Dt;
}
