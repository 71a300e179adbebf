// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Benchmarks;

/// <summary>Ranks 0..n-1, rank r drawn with probability proportional to 1 / (r + 1)^s, by inverting the cumulative table.</summary>
sealed class Zipf
{
    readonly double[] _cumulative;

    public Zipf(int n, double exponent)
    {
        _cumulative = new double[n];
        var sum = 0.0;
        for (var r = 0; r < n; r++)
        {
            sum += Math.Pow(r + 1, -exponent);
            _cumulative[r] = sum;
        }

        for (var r = 0; r < n; r++)
        {
            _cumulative[r] /= sum;
        }
    }

    /// <summary>The share of requests that go to the <paramref name="count"/> most requested keys.</summary>
    public double TopShare(int count) => _cumulative[Math.Min(count, _cumulative.Length) - 1];

    public int Next(Random random)
    {
        var index = Array.BinarySearch(_cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cumulative.Length - 1);
    }
}
