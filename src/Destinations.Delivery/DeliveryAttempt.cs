using System.Collections;
using System.Globalization;
using Destinations.Core.Delivery;

namespace Destinations.Delivery;

/// <summary>A claimed row being sent in this pass: its destination, its plan and how far it got (D11).</summary>
sealed class DeliveryAttempt(ClaimedDelivery delivery, IDestination destination, IReadOnlyList<PartnerRequest> plan, bool planStored)
{
    bool _planStored = planStored;

    public ClaimedDelivery Delivery { get; } = delivery;
    public IDestination Destination { get; } = destination;
    public IReadOnlyList<PartnerRequest> Plan { get; } = plan;

    /// <summary>Steps of the plan that have succeeded and are recorded.</summary>
    public int StepsDone { get; private set; } = delivery.StepsDone;

    public PartnerRequest Next => Plan[StepsDone];

    /// <summary>The plan to write with the next settlement: mapped in this pass and not stored yet (D11), else null.</summary>
    public string? PlanToStore() => _planStored ? null : PlanSerializer.Serialize(Plan);

    /// <summary>The next step's success was recorded (with the plan, when it went along).</summary>
    public void Advanced()
    {
        StepsDone++;
        _planStored = true;
    }
}

/// <summary>The per-delivery log scope's state: <c>messageId</c>, <c>destination</c>, <c>deliveryId</c> (read as properties by
/// structured loggers), without a dictionary per delivery.</summary>
sealed class DeliveryScope(ClaimedDelivery d) : IReadOnlyList<KeyValuePair<string, object>>
{
    public int Count => 3;

    public KeyValuePair<string, object> this[int index] => index switch
    {
        0 => new("messageId", d.MessageId),
        1 => new("destination", d.DestinationId),
        2 => new("deliveryId", d.Id),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        $"messageId:{d.MessageId} destination:{d.DestinationId} deliveryId:{d.Id.ToString(CultureInfo.InvariantCulture)}";
}
