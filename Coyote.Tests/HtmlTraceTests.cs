using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using VmaLockVerify.Harness.Exploration;
using VmaLockVerify.Harness.Traces;
using Xunit;

namespace VmaLockVerify.Tests;

/// <summary>
/// replay --html: one self-contained page, checked as headless Chromium runs and paints it.
/// Chromium is required, not optional: .ci/run installs it (Debian's chromium package).
/// </summary>
public sealed class HtmlTraceTests : IDisposable
{
    private const int ChromiumTimeoutMs = 60_000;
    private const int WindowWidth = 1400;
    private const int WindowHeight = 1000;

    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("vmalock-html-");

    public void Dispose() => this.scratch.Delete(recursive: true);

    [Fact]
    public void The_page_has_a_lane_per_thread_a_box_per_step_a_connector_per_switch_and_the_violation()
    {
        var (view, page) = this.Replay("skip-recheck");

        var dom = Chromium("--dump-dom", new Uri(page).AbsoluteUri);

        dom.Should().Contain("<html lang=\"en\" class=\"js\">", "the page's script ran to its end");
        Matches(dom, "<section class=\"lane\" data-thread=\"([^\"]*)\"").Select(m => m[0]).Should().Equal(view.Threads);

        var boxes = Matches(dom, "<div class=\"(step [^\"]*)\" id=\"step-\\d+\" data-step=\"(\\d+)\" data-thread=\"([^\"]*)\" data-depth=\"\\d+\" style=\"grid-row:(\\d+);[^>]*>(.*?)</div>")
            .OrderBy(m => int.Parse(m[1]))
            .ToList();
        var steps = view.Steps.Select(s => s.Step).ToList();
        boxes.Select(b => int.Parse(b[1])).Should().Equal(steps.Select(s => s.Index));
        boxes.Select(b => b[2]).Should().Equal(steps.Select(s => s.Thread));
        boxes.Select(b => WebUtility.HtmlDecode(Regex.Replace(b[4], "<[^>]*>", string.Empty)))
            .Should().Equal(steps.Select(s => $"{s.Index}{TraceRenderer.Cell(s).TrimStart()}"), "each box shows its step as the text table does");
        boxes.Select(b => int.Parse(b[3])).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems("a row per step, in execution order");
        boxes.Where(b => b[0].Split(' ').Contains("violation")).Select(b => int.Parse(b[1])).Should().Equal(steps[^1].Index);

        Matches(dom, "<div class=\"switch\" data-from=\"([^\"]*)\" data-to=\"([^\"]*)\"").Select(m => (m[0], m[1]))
            .Should().HaveCount(view.Switches)
            .And.Equal(view.Blocks.SkipLast(1).Select(b => (b.Thread, b.Next!)));
        dom.Should().Contain($"{WebUtility.HtmlEncode(view.Blocks[0].EndReason)}</span></div>", "a switch is labelled with its reason");

        Matches(dom, "<div id=\"violation\" class=\"banner\">(.*?)</div>").Should().ContainSingle()
            .Which[0].Should().Contain(view.Violation.Invariant).And.Contain(WebUtility.HtmlEncode(view.Violation.Message));
        Matches(dom, "<div class=\"state\" data-state-for=\"(\\d+)\">").Select(m => int.Parse(m[0]))
            .Should().Equal([steps[^1].Index], "only the last step's state is shown before a step is picked");
        Matches(dom, "<div class=\"state\" data-state-for=\"(\\d+)\" hidden=\"\">").Should().HaveCount(steps.Count - 1);
    }

    [Fact]
    public void The_page_paints_its_lanes_and_the_violation_banner()
    {
        var (view, page) = this.Replay("double-put-on-failure");
        var blank = Path.Combine(this.scratch.FullName, "blank.html");
        File.WriteAllText(blank, "<!DOCTYPE html><title>blank</title>");

        var shot = this.Screenshot(page);
        var empty = this.Screenshot(blank);

        (shot.Width, shot.Height).Should().Be((WindowWidth, WindowHeight));
        empty.Pixels.Distinct().Should().ContainSingle("the control: an empty page paints one colour");
        shot.Pixels.Distinct().Count().Should().BeGreaterThan(100, "text, boxes and lanes paint many colours");
        view.Threads.Should().HaveCount(3);
        foreach (var lane in new[] { 0x2563eb, 0xd97706, 0x059669 })
        {
            shot.Pixels.Count(p => p == lane).Should().BeGreaterThan(2000, $"lane colour #{lane:x6} heads a lane");
        }

        shot.Pixels.Count(p => p == 0xfde8e8).Should().BeGreaterThan(20_000, "the violation banner is painted at the top");
    }

    [Fact]
    public void The_page_is_self_contained_and_escaped()
    {
        var (view, page) = this.Replay("skip-recheck");
        var html = File.ReadAllText(page);

        Regex.Matches(html, "(src|href)\\s*=\\s*\"(?!#)[^\"]*\"", RegexOptions.IgnoreCase).Should().BeEmpty("the page fetches nothing");
        html.Should().NotContainAny(["<link", "@import", "url(", "http://", "https://"]);
        html.Should().Contain("load <b>vma1-&gt;vm_lock_seq</b> = -1").And.NotContain("vma1->vm_lock_seq");
        view.Steps.Should().Contain(s => s.Step.Text == "load vma1->vm_lock_seq = -1");
    }

    [Fact]
    public void An_unwritable_html_path_is_one_line_and_exit_2()
    {
        var trace = TestSupport.SavedTraces.First(p => p.Contains("skip-recheck", StringComparison.Ordinal));
        var page = Path.Combine(this.scratch.FullName, "missing", "page.html");

        var (code, output, error) = TestSupport.Vmalock("replay", trace, "--html", page);

        code.Should().Be(ExitCodes.BadInput);
        error.Trim().Should().Be($"vmalock: --html {page}: directory {Path.GetDirectoryName(page)} does not exist");
        error.Trim().Split('\n').Should().HaveCount(1);
        output.Should().BeEmpty();
    }

    /// <summary>Replays a saved trace with --html, which still prints the table and exits 1.</summary>
    private (TraceView View, string Page) Replay(string mutant)
    {
        var trace = TestSupport.SavedTraces.First(p => p.Contains($".{mutant}.", StringComparison.Ordinal));
        var page = Path.Combine(this.scratch.FullName, $"{mutant}.html");

        var (code, output, error) = TestSupport.Vmalock("replay", trace, "--html", page);

        code.Should().Be(ExitCodes.BugFound, error);
        output.Should().Contain("VIOLATION ").And.EndWith($"wrote {page}{Environment.NewLine}");
        return (Replayer.Replay(trace).View, page);
    }

    private Png Screenshot(string page)
    {
        var png = Path.Combine(this.scratch.FullName, Path.GetFileNameWithoutExtension(page) + ".png");
        Chromium($"--screenshot={png}", $"--window-size={WindowWidth},{WindowHeight}", "--hide-scrollbars", new Uri(page).AbsoluteUri);
        File.Exists(png).Should().BeTrue("chromium writes the screenshot");
        return Png.Decode(File.ReadAllBytes(png));
    }

    /// <summary>The groups of every match, without group 0.</summary>
    private static List<string[]> Matches(string text, string pattern) =>
        [.. Regex.Matches(text, pattern, RegexOptions.Singleline).Select(m => m.Groups.Values.Skip(1).Select(g => g.Value).ToArray())];

    /// <summary>The one line a machine without the browser gets (the README's quick start names the same prerequisite).</summary>
    public const string MissingChromium =
        "Chromium is missing: the HTML trace tests need Debian's chromium package (apt-get install chromium), the one prerequisite of dotnet test besides the .NET SDK; .ci/run installs it";

    /// <summary>Runs headless Chromium on a fresh profile and returns what it printed; fails if it is missing, fails or hangs.</summary>
    private static string Chromium(params string[] args)
    {
        var exe = new[] { "chromium", "chromium-browser" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
        if (exe is null)
        {
            throw new Xunit.Sdk.XunitException(MissingChromium);
        }

        var profile = Directory.CreateTempSubdirectory("vmalock-chromium-");
        var start = new ProcessStartInfo(exe!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={profile.FullName}" }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        try
        {
            using var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { lock (output) { output.Append(e.Data).Append('\n'); } };
            process.ErrorDataReceived += (_, e) => { lock (error) { error.Append(e.Data).Append('\n'); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(ChromiumTimeoutMs))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium {string.Join(' ', args)} did not finish in {ChromiumTimeoutMs / 1000} s");
            }

            process.WaitForExit(); // drains the redirected output
            process.ExitCode.Should().Be(0, error.ToString());
            return output.ToString();
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    /// <summary>A screenshot as 0xRRGGBB per pixel, decoded by StbImageSharp (a port of stb_image).</summary>
    private sealed record Png(int Width, int Height, int[] Pixels)
    {
        public static Png Decode(byte[] file)
        {
            var image = StbImageSharp.ImageResult.FromMemory(file, StbImageSharp.ColorComponents.RedGreenBlue);
            var rgb = image.Data;
            var pixels = new int[image.Width * image.Height];
            for (var i = 0; i < pixels.Length; i++)
            {
                pixels[i] = (rgb[3 * i] << 16) | (rgb[(3 * i) + 1] << 8) | rgb[(3 * i) + 2];
            }

            return new Png(image.Width, image.Height, pixels);
        }
    }
}
