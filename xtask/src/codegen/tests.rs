use super::spec::referenced;
use super::*;

#[test]
fn names() {
    assert_eq!(pascal("ON_DEMAND"), "OnDemand");
    assert_eq!(pascal("COHEREV2"), "CohereV2");
    assert_eq!(pascal("base64"), "Base64");
    assert_eq!(pascal("int8"), "Int8");
    assert_eq!(upper_first("reasoningEffort"), "ReasoningEffort");
    assert_eq!(referenced("list[list[float]]"), None);
    assert_eq!(referenced("list[dict(str, str)]"), None);
    assert_eq!(referenced("dict(str, CohereParameterDefinition)"), Some("CohereParameterDefinition"));
}
