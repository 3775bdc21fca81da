"""目标考核: staff pages."""
