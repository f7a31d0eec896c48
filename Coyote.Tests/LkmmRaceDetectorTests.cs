using FluentAssertions;
using VmaLockVerify.Implementation.Memory;
using VmaLockVerify.Implementation.Memory.Lkmm;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The data-race check on the bare view machine, in litmus shapes (no Coyote, no port): message
/// passing of a plain x through a flag races unless the flag orders it (release/acquire, or
/// smp_wmb() with smp_rmb(); one of the two is not enough), a spin lock orders its critical
/// sections, and marked accesses never race with each other. Every load reads the newest store
/// (choice 0), so each shape is one execution.
/// </summary>
public sealed class LkmmRaceDetectorTests
{
    private readonly LkmmMachine machine = new(LkmmOptions.Default, new Newest());
    private readonly LkmmRaceDetector<string> races;

    public LkmmRaceDetectorTests() => this.races = new LkmmRaceDetector<string>(this.machine);

    [Theory]
    [InlineData(MemoryOrder.Once, null, MemoryOrder.Once, null, true)]
    [InlineData(MemoryOrder.Release, null, MemoryOrder.Acquire, null, false)]
    [InlineData(MemoryOrder.Once, MemoryBarrier.Wmb, MemoryOrder.Once, MemoryBarrier.Rmb, false)]
    [InlineData(MemoryOrder.Once, MemoryBarrier.Wmb, MemoryOrder.Once, null, true)]
    [InlineData(MemoryOrder.Once, null, MemoryOrder.Once, MemoryBarrier.Rmb, true)]
    [InlineData(MemoryOrder.Release, null, MemoryOrder.Once, null, true)]
    public void Message_passing_of_a_plain_store_races_unless_the_flag_orders_it(MemoryOrder flagStore, MemoryBarrier? writerFence, MemoryOrder flagLoad, MemoryBarrier? readerFence, bool races)
    {
        this.Store(0, "x", plain: true).Should().BeNull();
        this.Fence(0, writerFence);
        this.Store(0, "f", order: flagStore).Should().BeNull();

        this.Load(1, "f", order: flagLoad).Should().BeNull("the flag is marked on both sides");
        this.Fence(1, readerFence);
        var race = this.Load(1, "x", plain: true);
        if (races)
        {
            race.Should().Be(new LkmmRace<string>(0, "store x by 0"));
        }
        else
        {
            race.Should().BeNull();
        }
    }

    [Fact]
    public void A_plain_load_is_ordered_before_a_store_after_an_acquire_of_its_release()
    {
        this.Load(0, "x", plain: true);
        this.Store(0, "f", order: MemoryOrder.Release);
        this.Load(1, "f", order: MemoryOrder.Acquire);
        this.Store(1, "x", plain: true).Should().BeNull();
    }

    [Fact]
    public void Smp_wmb_does_not_order_a_plain_load_before_later_stores()
    {
        this.Load(0, "x", plain: true);
        this.Fence(0, MemoryBarrier.Wmb);
        this.Store(0, "f", order: MemoryOrder.Once);
        this.Load(1, "f", order: MemoryOrder.Once);
        this.Fence(1, MemoryBarrier.Rmb);
        this.Store(1, "x", plain: true).Should().Be(new LkmmRace<string>(0, "load x by 0"), "smp_wmb() orders stores only");
    }

    [Fact]
    public void A_spin_lock_orders_its_critical_sections()
    {
        this.machine.Initialize("lock", 0L);
        this.machine.Lock(0, "lock");
        this.Store(0, "x", plain: true);
        this.machine.Unlock(0, "lock");
        this.machine.Lock(1, "lock");
        this.Load(1, "x", plain: true).Should().BeNull();
        this.Store(1, "x", plain: true).Should().BeNull();
        this.machine.Unlock(1, "lock");
    }

    [Fact]
    public void Marked_accesses_do_not_race_with_each_other_and_a_plain_one_races_with_both_kinds()
    {
        this.Store(0, "x", order: MemoryOrder.Once);
        this.Load(1, "x", order: MemoryOrder.Once).Should().BeNull();
        this.Store(1, "x", order: MemoryOrder.Once).Should().BeNull();
        this.Load(2, "x", plain: true).Should().Be(new LkmmRace<string>(0, "WRITE_ONCE x by 0"));
        this.Store(3, "y", plain: true);
        this.Load(2, "y", order: MemoryOrder.Once).Should().Be(new LkmmRace<string>(3, "store y by 3"));
    }

    private LkmmRace<string>? Load(int thread, string location, bool plain = false, MemoryOrder order = MemoryOrder.Once)
    {
        this.machine.Load(thread, location, plain ? MemoryOrder.Once : order);
        return this.races.Access(thread, location, new LkmmAccess(Loads: true, Stores: false, plain), $"{(plain ? "load" : order.ToString())} {location} by {thread}");
    }

    private LkmmRace<string>? Store(int thread, string location, bool plain = false, MemoryOrder order = MemoryOrder.Once)
    {
        this.machine.Store(thread, location, 1L, plain ? MemoryOrder.Once : order);
        var op = plain ? "store" : order == MemoryOrder.Once ? "WRITE_ONCE" : order.ToString();
        return this.races.Access(thread, location, new LkmmAccess(Loads: false, Stores: true, plain), $"{op} {location} by {thread}");
    }

    private void Fence(int thread, MemoryBarrier? barrier)
    {
        if (barrier is { } b)
        {
            this.machine.Fence(thread, b);
        }
    }

    private sealed class Newest : ILkmmChoice
    {
        public int Choose(int count) => 0;
    }
}
