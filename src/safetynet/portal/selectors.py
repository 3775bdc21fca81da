"""网络工会（职工服务平台）: every read that matters."""
