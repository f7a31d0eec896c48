using System.Reflection;
using FluentAssertions;
using VmaLockVerify.Spec;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// Threads, mms and VMAs are named by type (<see cref="ThreadName"/>, <see cref="MmName"/>,
/// <see cref="VmaName"/>): every event and the Spec's state carry them so, and they print and
/// order as the strings they replaced did, so traces and coverage digests are unchanged.
/// </summary>
public sealed class NamesTests
{
    /// <summary>The property names that name a thread, an mm or a VMA, and the type each must have.</summary>
    private static readonly Dictionary<string, Type> Naming = new(StringComparer.Ordinal)
    {
        ["Thread"] = typeof(ThreadName),
        ["Mm"] = typeof(MmName),
        ["VmaMm"] = typeof(MmName),
        ["OwnMm"] = typeof(MmName),
        ["Vma"] = typeof(VmaName),
    };

    public static TheoryData<string> EventTypes() =>
        [.. typeof(ProtocolEvent).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(ProtocolEvent)) || t == typeof(RacingAccess) || t == typeof(UnseenStore))
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void An_event_names_its_thread_mm_and_vma_by_type(string eventType)
    {
        var type = typeof(ProtocolEvent).Assembly.GetTypes().Single(t => t.Name == eventType);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (Naming.TryGetValue(property.Name, out var expected))
            {
                (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)
                    .Should().Be(expected, $"{eventType}.{property.Name} names a {expected.Name[..^4].ToLowerInvariant()}");
            }
        }
    }

    [Fact]
    public void The_spec_keeps_its_state_by_typed_names()
    {
        typeof(ProtocolSpec.MmState).GetProperty(nameof(ProtocolSpec.MmState.Writer))!.PropertyType.Should().Be<ThreadName?>();
        typeof(ProtocolSpec.MmState).GetProperty(nameof(ProtocolSpec.MmState.Readers))!.PropertyType.Should().Be<HashSet<ThreadName>>();
        typeof(ProtocolSpec.MmState).GetProperty(nameof(ProtocolSpec.MmState.Marked))!.PropertyType.Should().Be<HashSet<VmaName>>();
        typeof(ProtocolSpec.VmaState).GetProperty(nameof(ProtocolSpec.VmaState.Readers))!.PropertyType.Should().Be<HashSet<ThreadName>>();
        typeof(ProtocolSpec.VmaState).GetProperty(nameof(ProtocolSpec.VmaState.Mm))!.PropertyType.Should().Be<MmName?>();
    }

    [Fact]
    public void A_name_prints_as_its_text()
    {
        $"{new ThreadName("fault0")} {new MmName("mm")} {new VmaName("vma1'")}".Should().Be("fault0 mm vma1'");
        new VmaWriteMarked("writer", "mm", "vma1", 3).Describe().Should().Be("writer vma_start_write: vma1->vm_lock_seq = 3");
    }

    [Fact]
    public void Names_order_ordinally_as_the_strings_did()
    {
        string[] texts = ["vma10", "vma2", "Vma1", "vma1", "vma1'"];
        texts.Select(t => new VmaName(t)).Order().Select(n => n.Name).Should().Equal(texts.Order(StringComparer.Ordinal));
        texts.Select(t => new ThreadName(t)).Order().Select(n => n.Name).Should().Equal(texts.Order(StringComparer.Ordinal));
        texts.Select(t => new MmName(t)).Order().Select(n => n.Name).Should().Equal(texts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Names_of_different_kinds_are_different_types_with_equal_text_equal()
    {
        new VmaName("vma1").Should().Be(new VmaName("vma1")).And.NotBe(new VmaName("vma2"));
        ((object)new VmaName("mm")).Should().NotBe(new MmName("mm"), "a VMA's name is not an mm's, though both read mm");
        new ThreadName("w").Should().Be((ThreadName)"w", "a literal converts to the name");
    }
}
