//! Brazilian taxpayer numbers: CPF (people, 11 digits) and CNPJ (companies, 14 characters;
//! since July 2026 the first 12 may be letters). Both end in two check digits, which catch
//! a typo before Asaas does.

/// The number without punctuation (`.`, `-`, `/`, spaces), upper-cased, when its check
/// digits hold; `None` otherwise.
pub fn normalise(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '/' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = match cleaned.len() {
        11 => cpf_holds(&cleaned),
        14 => cnpj_holds(&cleaned),
        _ => false,
    };
    valid.then_some(cleaned)
}

fn cpf_holds(number: &str) -> bool {
    let Some(digits) = number
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<Vec<u32>>>()
    else {
        return false;
    };
    // 000.000.000-00 and its kind pass the arithmetic but are no one's.
    if digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = (0..len)
            .map(|i| digits[i] * (len as u32 + 1 - i as u32))
            .sum();
        (sum * 10) % 11 % 10
    };
    check(9) == digits[9] && check(10) == digits[10]
}

fn cnpj_holds(number: &str) -> bool {
    let chars: Vec<char> = number.chars().collect();
    // Letters count as their ASCII code minus 48 ('A' is 17), digits as themselves.
    let values: Option<Vec<u32>> = chars
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            '0'..='9' => Some(*c as u32 - 48),
            'A'..='Z' if i < 12 => Some(*c as u32 - 48),
            _ => None,
        })
        .collect();
    let Some(values) = values else { return false };
    if values.iter().all(|v| *v == values[0]) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = (0..len)
            .map(|i| values[i] * (2 + ((len - 1 - i) % 8) as u32))
            .sum();
        match sum % 11 {
            0 | 1 => 0,
            r => 11 - r,
        }
    };
    check(12) == values[12] && check(13) == values[13]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_decide() {
        assert_eq!(normalise("529.982.247-25").as_deref(), Some("52998224725"));
        assert_eq!(normalise("52998224724"), None);
        assert_eq!(normalise("111.111.111-11"), None);
        assert_eq!(
            normalise("11.222.333/0001-81").as_deref(),
            Some("11222333000181")
        );
        assert_eq!(normalise("11.222.333/0001-80"), None);
        // The alphanumeric CNPJ of the Receita Federal's own example.
        assert_eq!(
            normalise("12.ABC.345/01DE-35").as_deref(),
            Some("12ABC34501DE35")
        );
        assert_eq!(normalise("12.ABC.345/01DE-36"), None);
        assert_eq!(normalise("1234"), None);
        assert_eq!(normalise("5299822472A"), None);
    }
}
