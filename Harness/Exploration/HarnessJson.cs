using System.Text.Json;

namespace VmaLockVerify.Harness.Exploration;

/// <summary>Reads the JSON files vmalock writes (trace files, results files): anything wrong with one is bad input (exit 2).</summary>
public static class HarnessJson
{
    /// <summary>
    /// Reads a <paramref name="kind"/> file ("trace", "results"): missing, not JSON, or not
    /// <paramref name="valid"/> is one line naming the file and what is wrong, with exit code 2.
    /// </summary>
    public static T Read<T>(string path, string kind, JsonSerializerOptions options, Func<T, bool> valid, string notValid)
        where T : class
    {
        if (!File.Exists(path))
        {
            throw new HarnessException(ExitCodes.BadInput, $"{kind} file not found: {path}");
        }

        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(File.ReadAllText(path), options);
        }
        catch (JsonException e)
        {
            throw new HarnessException(ExitCodes.BadInput, $"malformed {kind} file {path}: {e.Message.Split(Environment.NewLine)[0]}");
        }

        return value is not null && valid(value)
            ? value
            : throw new HarnessException(ExitCodes.BadInput, $"malformed {kind} file {path}: {notValid}");
    }
}
