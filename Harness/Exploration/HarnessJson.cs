using System.Text.Json;
using System.Text.Json.Nodes;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>Reads the JSON files vmalock writes (trace files, results files): anything wrong with one is bad input (exit 2).</summary>
public static class HarnessJson
{
    /// <summary>
    /// Reads a <paramref name="kind"/> file ("trace", "results"): missing, a directory, not JSON,
    /// failing <paramref name="check"/> (every field, with <see cref="JsonFields"/>), of the wrong
    /// shape, or not <paramref name="valid"/> is one line naming the file and what is wrong, with
    /// exit code 2.
    /// </summary>
    public static T Read<T>(string path, string kind, JsonSerializerOptions options, Action<JsonObject, JsonFields>? check, Func<T, bool> valid, string notValid)
        where T : class
    {
        var fields = new JsonFields(path, kind);
        var root = fields.Parse();
        check?.Invoke(root, fields);
        T? value;
        try
        {
            value = root.Deserialize<T>(options);
        }
        catch (JsonException e)
        {
            throw fields.Bad($"{FieldOf(e.Path)} has a value of the wrong type");
        }

        return value is not null && valid(value) ? value : throw fields.Bad(notValid);
    }

    /// <summary>A serializer error's JSON path as a field name: <c>$.runs[0].seed</c> is <c>runs[0].seed</c>.</summary>
    private static string FieldOf(string? jsonPath) =>
        jsonPath is null or "$" ? "the file" : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath;
}
