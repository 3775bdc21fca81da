"""网络工会（职工服务平台） in the admin (read-only views for support)."""
