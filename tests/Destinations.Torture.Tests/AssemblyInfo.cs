// The torture tests each drive a real service process hard on a 2-core machine: run them one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
