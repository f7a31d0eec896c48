using FluentAssertions;
using VmaLockVerify.Implementation.Kernel;
using VmaLockVerify.Implementation.Locking;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>sem->owner as a type: the writer's task, RWSEM_READER_OWNED, or NULL, printed as the traces print it.</summary>
public sealed class RwsemOwnerTests
{
    private readonly KernelWorld world = new(new Uncontested());

    [Fact]
    public void Each_owner_prints_in_the_kernels_words()
    {
        RwsemOwner.None.ToString().Should().Be("NULL");
        RwsemOwner.ReaderOwned.ToString().Should().Be("RWSEM_READER_OWNED");
        this.world.RunAs("writer", null, () => RwsemOwner.Writer(this.world.Current).ToString().Should().Be("writer"));
    }

    [Fact]
    public void A_writer_owns_the_semaphore_until_up_write_and_readers_leave_the_reader_owned_mark()
    {
        var sem = new RwSemaphore(this.world, "mm->mmap_lock", Spec.LockClass.MmapLock);
        sem.Owner.Peek().Should().Be(RwsemOwner.None);

        this.world.RunAs("writer", null, () =>
        {
            sem.DownWrite();
            sem.Owner.Peek().Should().Be(RwsemOwner.Writer(this.world.Current));
            sem.Owner.Peek().IsReaderOwned.Should().BeFalse();
            sem.UpWrite();
            sem.Owner.Peek().Should().Be(RwsemOwner.None);

            sem.DownWrite();
            sem.DowngradeWrite();
            sem.Owner.Peek().Should().Be(RwsemOwner.ReaderOwned);
            sem.UpRead();
        });

        this.world.RunAs("reader", null, () =>
        {
            sem.DownRead();
            sem.Owner.Peek().IsReaderOwned.Should().BeTrue();
            sem.Owner.Peek().Task.Should().BeNull();
            sem.Owner.Format(sem.Owner.Peek()).Should().Be("RWSEM_READER_OWNED");
            sem.UpRead();
        });
    }

    [Fact]
    public void Up_write_by_a_task_that_does_not_own_the_semaphore_is_a_kernel_bug()
    {
        var sem = new RwSemaphore(this.world, "mm->mmap_lock", Spec.LockClass.MmapLock);
        this.world.RunAs("writer", null, sem.DownWrite);

        var upWrite = () => this.world.RunAs("intruder", null, sem.UpWrite);

        upWrite.Should().Throw<KernelBugException>().WithMessage("DEBUG_RWSEMS_WARN_ON(sem->owner != current) on mm->mmap_lock in up_write (intruder)");
        sem.Owner.Peek().Task!.Name.Should().Be("writer");
    }

    /// <summary>One thread at a time: no scheduling point does anything, and no rare event happens.</summary>
    private sealed class Uncontested : IExecutionControl
    {
        public void Interleave()
        {
        }

        public int Choose(int count) => count - 1;

        public void Fail(string message)
        {
        }
    }
}
