using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>
/// Reads the fields of one JSON file vmalock wrote (a trace, a results file) and says, in one
/// line, which field is wrong and what was expected: <c>malformed trace file F: options.readers
/// must be a whole number, not "two"</c>. No .NET type names reach the user, and every problem is
/// bad input (exit 2).
/// </summary>
public sealed class JsonFields(string path, string kind)
{
    /// <summary>Parses the file; missing, a directory, unreadable or not JSON is one line.</summary>
    public JsonObject Parse()
    {
        if (Directory.Exists(path))
        {
            throw new HarnessException(ExitCodes.BadInput, $"{path} is a directory, not a {kind} file");
        }

        if (!File.Exists(path))
        {
            throw new HarnessException(ExitCodes.BadInput, $"{kind} file not found: {path}");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HarnessException(ExitCodes.BadInput, $"cannot read {kind} file {path}: {e.Message}");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw this.Bad($"not JSON ({Where(e)})");
        }

        return root as JsonObject ?? throw this.Bad($"must hold a JSON object, not {Describe(root)}");
    }

    /// <summary>The problem as bad input: <c>malformed KIND file PATH: PROBLEM</c>.</summary>
    public HarnessException Bad(string problem) => new(ExitCodes.BadInput, $"malformed {kind} file {path}: {problem}");

    /// <summary>A field that must be present and an object.</summary>
    public JsonObject Object(JsonObject parent, string field, string at) =>
        parent[field] as JsonObject ?? throw this.Expected(parent, field, at, "an object");

    /// <summary>A field that may be missing or null, else an object.</summary>
    public JsonObject? OptionalObject(JsonObject parent, string field, string at) =>
        parent[field] is null ? null : this.Object(parent, field, at);

    /// <summary>A field that must be present and a string (non-empty unless <paramref name="mayBeEmpty"/>).</summary>
    public string String(JsonObject parent, string field, string at, bool mayBeEmpty = false)
    {
        var node = parent[field];
        return node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { } text && (mayBeEmpty || text.Length > 0)
            ? text
            : throw this.Expected(parent, field, at, mayBeEmpty ? "a string" : "a non-empty string");
    }

    /// <summary>A field that must be present: null, or a non-empty string.</summary>
    public string? NullableString(JsonObject parent, string field, string at)
    {
        if (!parent.ContainsKey(field))
        {
            throw this.Expected(parent, field, at, "a non-empty string or null");
        }

        return parent[field] is null ? null : this.String(parent, field, at);
    }

    /// <summary>A field that must be present and a whole number in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public long Integer(JsonObject parent, string field, string at, long min, long max)
    {
        var node = parent[field];
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number))
        {
            return number >= min && number <= max ? number : throw this.Bad($"{Name(at, field)} must be {min}..{max}, not {number}");
        }

        throw this.Expected(parent, field, at, $"a whole number {min}..{max}");
    }

    /// <summary>A field that must be present and a number (whole or not) in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public double Number(JsonObject parent, string field, string at, double min, double max)
    {
        var node = parent[field];
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var number) && double.IsFinite(number))
        {
            return number >= min && number <= max ? number : throw this.Bad($"{Name(at, field)} must be {min}..{max}, not {value.ToJsonString()}");
        }

        throw this.Expected(parent, field, at, $"a number {min}..{max}");
    }

    /// <summary>A field that must be present and one of the <paramref name="known"/> names.</summary>
    public string OneOf(JsonObject parent, string field, string at, IReadOnlyList<string> known)
    {
        var value = this.String(parent, field, at);
        return known.Contains(value) ? value : throw this.Bad($"{Name(at, field)} must be one of {string.Join(", ", known)}, not {Describe(parent[field])}");
    }

    /// <summary>A field that must be present: null, or a whole number in range.</summary>
    public long? NullableInteger(JsonObject parent, string field, string at, long min, long max)
    {
        if (!parent.ContainsKey(field))
        {
            throw this.Expected(parent, field, at, $"a whole number {min}..{max} or null");
        }

        return parent[field] is null ? null : this.Integer(parent, field, at, min, max);
    }

    /// <summary>A field that must be present and true or false.</summary>
    public bool Boolean(JsonObject parent, string field, string at) =>
        parent[field] is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? value.GetValue<bool>()
            : throw this.Expected(parent, field, at, "true or false");

    /// <summary>A field that must be present and an array (with at least <paramref name="minCount"/> elements).</summary>
    public JsonArray Array(JsonObject parent, string field, string at, int minCount = 0)
    {
        var array = parent[field] as JsonArray ?? throw this.Expected(parent, field, at, "an array");
        return array.Count >= minCount ? array : throw this.Bad($"{Name(at, field)} must have at least {minCount} element(s), not {array.Count}");
    }

    /// <summary>The strings of an array field, each non-empty.</summary>
    public IReadOnlyList<string> Strings(JsonObject parent, string field, string at, int minCount = 0)
    {
        var array = this.Array(parent, field, at, minCount);
        return [.. array.Select((node, i) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text
            ? text
            : throw this.Bad($"{Name(at, field)}[{i}] must be a non-empty string, not {Describe(node)}"))];
    }

    /// <summary>The objects of an array field.</summary>
    public IReadOnlyList<JsonObject> Objects(JsonObject parent, string field, string at) =>
        [.. this.Array(parent, field, at).Select((node, i) => node as JsonObject ?? throw this.Bad($"{Name(at, field)}[{i}] must be an object, not {Describe(node)}"))];

    /// <summary>Refuses fields the format does not have (a misspelt field would otherwise be silently ignored).</summary>
    public void OnlyFields(JsonObject node, string at, params string[] known)
    {
        var unknown = node.Select(p => p.Key).FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal));
        if (unknown is not null)
        {
            throw this.Bad($"unknown field {Name(at, unknown)} (fields here: {string.Join(", ", known)})");
        }
    }

    /// <summary>A field's dotted name: <c>options.readers</c>.</summary>
    public static string Name(string at, string field) => at.Length == 0 ? field : $"{at}.{field}";

    /// <summary>What a value is, for an error line: missing, null, a quoted (shortened) string, a number, an object...</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => Quote(value.GetValue<string>()),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => HarnessException.Shorten(value.ToJsonString()),
            _ => "a value",
        },
        _ => "a value",
    };

    private HarnessException Expected(JsonObject parent, string field, string at, string expected) =>
        this.Bad($"{Name(at, field)} must be {expected}, not {(parent.ContainsKey(field) ? Describe(parent[field]) : "missing")}");

    private static string Where(JsonException e) =>
        e.LineNumber is { } line ? $"at line {line + 1}, byte {e.BytePositionInLine + 1}" : "unreadable";

    private static string Quote(string text) => HarnessException.Shorten(JsonSerializer.Serialize(text));
}
