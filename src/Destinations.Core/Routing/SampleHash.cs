using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Destinations.Core.Segment;

namespace Destinations.Core.Routing;

/// <summary>
/// The sampling choice of a <c>sample</c> filter, the same on every replica, after a restart and in any language:
/// <c>x</c> = the first 4 bytes of SHA-256 over the key's UTF-8 bytes, read as a big-endian unsigned 32-bit number; the event
/// is kept when <c>x &lt; percent / 100 × 2^32</c>. The key is the messageId, or with <c>by: userId</c> the userId (else the
/// anonymousId, else the messageId). Nothing else goes into the hash (no instance id, no seed), so a 10% sample is contained
/// in a 20% one and two instances sampling the same share by userId keep the same users.
/// </summary>
public static class SampleHash
{
    /// <summary>The text hashed for <paramref name="by"/>. Without a userId, an anonymous visitor is sampled as one user by
    /// their anonymousId; with neither, the event is sampled on its own by its messageId.</summary>
    public static string KeyOf(SegmentEvent e, SampleBy by) => by switch
    {
        SampleBy.UserId when !string.IsNullOrEmpty(e.UserId) => e.UserId,
        SampleBy.UserId when !string.IsNullOrEmpty(e.AnonymousId) => e.AnonymousId,
        _ => e.MessageId,
    };

    /// <summary>The key's point in [0, 2^32).</summary>
    public static uint Bucket(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var bytes = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(key, bytes);
        SHA256.HashData(bytes[..length], hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    public static bool Keeps(string key, double percent) =>
        percent >= 100 || (percent > 0 && Bucket(key) < percent / 100 * 4294967296.0);
}
