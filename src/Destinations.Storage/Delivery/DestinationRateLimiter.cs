using Destinations.Core.Routing;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Destinations.Storage.Delivery;

/// <summary>
/// D25 on SQLite (one process): a token bucket per destination instance, in memory. The dispatcher asks it before sending
/// and skips or postpones a throttled instance's rows instead of sleeping, so one instance's limit never holds a worker that
/// could serve another; waiting is not an attempt (D14). A 429 lowers the instance's rate for a while (adaptive).
/// PostgreSQL (several replicas, <see cref="ISharedRateLimits"/>) keeps the bucket in a row updated in the claim transaction
/// instead: then this class only supplies the limits (<see cref="SharedLimits"/>) and forwards 429s to the shared row.
/// </summary>
public sealed class DestinationRateLimiter
{
    /// <summary>Partner defaults (docs/partners/*.md "Rate limit"): Salesmachine about 900 requests per 300 s per token; SMC 2,500 per minute.</summary>
    public static readonly IReadOnlyDictionary<string, (int Limit, TimeSpan Period)> BuiltInDefaults = new Dictionary<string, (int, TimeSpan)>(StringComparer.OrdinalIgnoreCase)
    {
        ["Salesmachine"] = (900, TimeSpan.FromSeconds(300)),
        ["SelligentMarketingCloud"] = (2500, TimeSpan.FromSeconds(60)),
    };

    /// <summary>Destination type (configuration <c>Type</c>) by Integrations-object name.</summary>
    static readonly IReadOnlyDictionary<string, string> TypeByIntegrationName = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Salesmachine"] = "Salesmachine",
        ["Selligent Marketing Cloud"] = "SelligentMarketingCloud",
        ["UserMotion (Actions)"] = "UserMotion",
    };

    readonly DeliveryOptions _options;
    readonly DestinationRegistry _registry;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<string, Bucket?> _buckets = new(StringComparer.Ordinal);
    readonly ISharedRateLimits? _shared;

    /// <param name="queue">When it shares its limits across replicas (PostgreSQL), the buckets live in the store.</param>
    public DestinationRateLimiter(IOptions<DeliveryOptions> options, DestinationRegistry registry, TimeProvider time, IDeliveryQueue? queue = null)
    {
        _options = options.Value;
        _registry = registry;
        _time = time;
        _shared = queue as ISharedRateLimits;
    }

    /// <summary>For the claim of a shared store (D25 across replicas); null when the buckets are in memory.</summary>
    public Func<string, SharedRateLimit?>? SharedLimits => _shared is null ? null : SharedLimitFor;

    SharedRateLimit? SharedLimitFor(string destinationId) =>
        LimitFor(destinationId) is { } l
            ? new SharedRateLimit(l.Limit, l.Period, Math.Max(1, (_registry.Find(destinationId) as Core.Delivery.IBatchingDestination)?.MaxBatchSize ?? 1), _options.ThrottledRateFactor)
            : null;

    /// <summary>The limit in force for an instance before any 429: its own, else its type's configured default, else the built-in one.</summary>
    public (int Limit, TimeSpan Period)? LimitFor(string destinationId)
    {
        if (_options.RateLimits.TryGetValue(destinationId, out var own)) return own.Limit > 0 ? (own.Limit, own.Period) : null;
        var type = _registry.Find(destinationId) is { } d ? TypeByIntegrationName.GetValueOrDefault(d.IntegrationName, d.IntegrationName) : null;
        if (type is null) return null;
        if (_options.RateLimitDefaults.TryGetValue(type, out var byType)) return byType.Limit > 0 ? (byType.Limit, byType.Period) : null;
        return BuiltInDefaults.TryGetValue(type, out var builtIn) ? builtIn : null;
    }

    /// <summary>Takes up to <paramref name="wanted"/> tokens; returns how many were granted (all of them when unlimited).</summary>
    /// <remarks>With a shared store the claim already took the tokens.</remarks>
    public int TryAcquire(string destinationId, int wanted) =>
        _shared is not null ? wanted : BucketFor(destinationId)?.Take(wanted, _time.GetUtcNow(), _options) ?? wanted;

    /// <summary>When the next token will be there (now when unlimited).</summary>
    public DateTimeOffset NextTokenAt(string destinationId)
    {
        var now = _time.GetUtcNow();
        return BucketFor(destinationId)?.NextTokenAt(now, _options) ?? now;
    }

    /// <summary>Instances with no token now: the dispatcher does not claim their rows.</summary>
    public IReadOnlySet<string> Throttled()
    {
        var now = _time.GetUtcNow();
        if (_shared is not null) return new HashSet<string>(); // the shared claim skips them itself
        return _buckets.Where(b => b.Value is { } bucket && bucket.NextTokenAt(now, _options) > now).Select(b => b.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>D25 adaptive: the partner answered 429. The rate drops for <see cref="DeliveryOptions.ThrottledFor"/>, and
    /// nothing goes before its <c>Retry-After</c>.</summary>
    public void OnThrottled(string destinationId, TimeSpan? retryAfter)
    {
        var now = _time.GetUtcNow();
        BucketFor(destinationId, createUnlimited: true)?.Throttle(now, retryAfter, _options);
        if (_shared is null) return;
        // Best effort, off the delivery path: the 429'd row is already scheduled after Retry-After (D14), so a lost update
        // only costs the other replicas one more 429.
        _ = _shared.ThrottleAsync(destinationId, now + _options.ThrottledFor, retryAfter is { } ra ? now + ra : null, CancellationToken.None)
            .ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The rate in force now, in calls per second (null when unlimited), for stats and tests.</summary>
    public double? CurrentRate(string destinationId) => BucketFor(destinationId)?.Rate(_time.GetUtcNow(), _options);

    Bucket? BucketFor(string destinationId, bool createUnlimited = false)
    {
        var bucket = _buckets.GetOrAdd(destinationId, id => LimitFor(id) is { } l ? new Bucket(l.Limit, l.Period, _time.GetUtcNow()) : null);
        if (bucket is null && createUnlimited)
        {
            // An instance without a limit that still gets 429s: it is only held until Retry-After.
            bucket = new Bucket(int.MaxValue, TimeSpan.FromSeconds(1), _time.GetUtcNow());
            _buckets[destinationId] = bucket;
        }
        return bucket;
    }

    sealed class Bucket(int limit, TimeSpan period, DateTimeOffset now)
    {
        readonly Lock _lock = new();
        double _tokens = Math.Min(limit, 1_000_000);
        DateTimeOffset _refilledAt = now;
        DateTimeOffset _throttledUntil = DateTimeOffset.MinValue;
        DateTimeOffset _blockedUntil = DateTimeOffset.MinValue;

        public double Rate(DateTimeOffset now, DeliveryOptions o) =>
            limit / period.TotalSeconds * (now < _throttledUntil ? o.ThrottledRateFactor : 1);

        void Refill(DateTimeOffset now, DeliveryOptions o)
        {
            if (now > _refilledAt) _tokens = Math.Min(Math.Min(limit, 1_000_000), _tokens + (now - _refilledAt).TotalSeconds * Rate(now, o));
            _refilledAt = now;
        }

        public int Take(int wanted, DateTimeOffset now, DeliveryOptions o)
        {
            lock (_lock)
            {
                if (now < _blockedUntil) return 0;
                Refill(now, o);
                var granted = (int)Math.Min(wanted, Math.Floor(_tokens));
                _tokens -= granted;
                return granted;
            }
        }

        public DateTimeOffset NextTokenAt(DateTimeOffset now, DeliveryOptions o)
        {
            lock (_lock)
            {
                if (now < _blockedUntil) return _blockedUntil;
                Refill(now, o);
                return _tokens >= 1 ? now : now + TimeSpan.FromSeconds((1 - _tokens) / Rate(now, o));
            }
        }

        public void Throttle(DateTimeOffset now, TimeSpan? retryAfter, DeliveryOptions o)
        {
            lock (_lock)
            {
                Refill(now, o);
                _throttledUntil = now + o.ThrottledFor;
                _tokens = Math.Min(_tokens, 0);
                if (retryAfter is { } ra && now + ra > _blockedUntil) _blockedUntil = now + ra;
            }
        }
    }
}
