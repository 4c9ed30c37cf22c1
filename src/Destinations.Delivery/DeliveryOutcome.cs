namespace Destinations.Delivery;

/// <summary>What became of one claimed delivery in one pass.</summary>
public enum DeliveryOutcome { Delivered, Filtered, Invalid, RetryScheduled, Dead, Released, LeaseLost, Held, Postponed }
