using FluentAssertions;
using VmaLockVerify.Harness.Cli;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// The reference pages in docs/ are generated from the registries (vmalock docs): each committed
/// page must be exactly what the code generates now, so a new scenario, mutant, proposal,
/// invariant, generation or strategy fails here until the pages are regenerated.
/// </summary>
public sealed class DocsTests
{
    [Fact]
    public void Every_generated_page_in_docs_is_up_to_date()
    {
        var pages = DocsCommand.Pages();
        pages.Select(p => p.File).Should().BeEquivalentTo(["scenarios.md", "generations.md", "mutants.md", "proposals.md", "invariants.md", "strategies.md"]);
        foreach (var (file, text) in pages)
        {
            var path = Path.Combine(TestSupport.RepositoryRoot, DocsCommand.DefaultDir, file);
            File.Exists(path).Should().BeTrue($"docs/{file} is generated: run dotnet run --project Harness -- docs");
            File.ReadAllText(path).Should().Be(text, $"docs/{file} is out of date: run dotnet run --project Harness -- docs");
        }
    }

    [Fact]
    public void The_pages_name_everything_the_command_line_can_name()
    {
        var mutants = DocsCommand.Pages().Single(p => p.File == "mutants.md").Text;
        foreach (var mutant in Harness.Mutants.MutantRegistry.All)
        {
            mutants.Should().Contain($"| `{mutant.Name}` |");
        }

        var invariants = DocsCommand.Pages().Single(p => p.File == "invariants.md").Text;
        invariants.Should().Contain("| `ReadLocksReleased` |").And.Contain("| liveness |");
    }
}
