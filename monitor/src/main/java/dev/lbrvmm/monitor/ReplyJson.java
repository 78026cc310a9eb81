package dev.lbrvmm.monitor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * How reply records become JSON: members in declaration order, names in kebab-case as QAPI spells
 * them ({@code cpuIndex} -> {@code cpu-index}; a record component that QAPI spells otherwise says
 * so with {@code @JsonProperty}), null members left out.
 */
public final class ReplyJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private ReplyJson() {}

    /** A reply value as JSON ({@code {}} for none). */
    public static JsonNode toJson(Object value) {
        if (value == null) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (value instanceof JsonNode n) {
            return n;
        }
        return MAPPER.valueToTree(value);
    }

    /** A value as one line of JSON text with the replies' naming (kebab-case members, nulls left out). */
    public static String text(Object value) {
        return toJson(value).toString();
    }
}
